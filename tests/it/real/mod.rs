//! The real programs the tests run, started by the tests themselves on
//! 127.0.0.1 and stopped when dropped: Ollama (pinned, built by
//! `tests/tools/install-ollama.sh`) with a tiny model of random weights
//! (`tests/tools/tiny-gguf.py`), and a private model mirror (Debian's
//! `docker-registry` behind nginx).

pub mod mirror;
pub mod ollama;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// A child process killed (and reaped) when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process started as the leader of a process group of its own
/// (`CommandExt::process_group(0)`): when dropped, the whole group is
/// killed (Ollama's model runners, its children, with it) and the child
/// reaped.
pub struct Group(pub Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers 2xx, up to `limit`; panics with `log`'s text.
pub fn wait_for(url: &str, limit: Duration, log: &Path) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < limit {
        if client
            .get(url)
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{url} did not answer within {limit:?}; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A program from Debian, or a failure naming the package.
pub fn debian(program: &str, package: &str) -> std::path::PathBuf {
    crate::tools::which(program)
        .or_else(|| {
            ["/usr/sbin", "/sbin"]
                .iter()
                .map(|d| Path::new(d).join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{program} is not installed: apt-get install -y {package}"))
}
