//! The real Headscale, started in its host's namespace from the files
//! `privai build` rendered: the command line of the generated service
//! (launchd's `ProgramArguments` or systemd's `ExecStart=`) and the
//! generated `config.yaml`, adapted only by moving every absolute path in
//! them under the host's staged install (`privai apply --root`), where
//! privai keeps the files Headscale reads (its TLS pair, its policy).

use super::net::{Host, Net};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A running Headscale.
pub struct Headscale {
    /// Its process.
    pub pid: u32,
    /// The adapted config it runs with.
    pub config: PathBuf,
    /// Its log.
    pub log: PathBuf,
    /// The program.
    pub program: PathBuf,
}

/// `path` (absolute) under `tree`.
fn under(tree: &Path, path: &str) -> String {
    tree.join(path.trim_start_matches('/'))
        .to_string_lossy()
        .into_owned()
}

/// Every absolute path among the string values of `value`, moved under `tree`.
fn adapt(value: &mut serde_yaml_ng::Value, tree: &Path) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) if s.starts_with('/') => *s = under(tree, s),
        Value::Mapping(map) => map.iter_mut().for_each(|(_, v)| adapt(v, tree)),
        Value::Sequence(seq) => seq.iter_mut().for_each(|v| adapt(v, tree)),
        _ => {}
    }
}

/// The generated service's command line, from the host's built tree.
fn command_line(tree: &Path) -> Vec<String> {
    let plist = tree.join("Library/LaunchDaemons/net.privai.headscale.plist");
    if plist.exists() {
        let dict: plist::Dictionary = plist::from_file(&plist).unwrap();
        return dict
            .get("ProgramArguments")
            .expect("ProgramArguments")
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap().to_owned())
            .collect();
    }
    let unit = tree.join("etc/systemd/system/privai-headscale.service");
    let text = std::fs::read_to_string(&unit).unwrap_or_else(|e| {
        panic!(
            "no Headscale service in the build ({e}): {}",
            unit.display()
        )
    });
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has ExecStart=");
    line.split_whitespace().map(str::to_owned).collect()
}

/// The built config of `build` (a host's part of a `privai build`).
fn built_config(build: &Path) -> serde_yaml_ng::Value {
    let argv = command_line(build);
    let at = argv
        .iter()
        .position(|a| a == "--config")
        .expect("headscale serve --config FILE");
    serde_yaml_ng::from_str(&std::fs::read_to_string(under(build, &argv[at + 1])).unwrap()).unwrap()
}

/// `tls_cert_path` and `tls_key_path` of the config built in `build`.
pub fn tls_paths(build: &Path) -> (String, String) {
    let config = built_config(build);
    let path = |key: &str| {
        config[key]
            .as_str()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| panic!("the built config has no {key}: self-signed TLS?"))
            .to_owned()
    };
    (path("tls_cert_path"), path("tls_key_path"))
}

impl Headscale {
    /// Starts Headscale on `host` from `build`, the host's part of a
    /// `privai build` (files at their install paths under it), its paths
    /// moved under `tree` (the host's staged install), with `program` as
    /// the binary; waits until it listens on `addr`.
    pub fn start(
        net: &mut Net,
        host: &Host,
        build: &Path,
        tree: &Path,
        program: &Path,
        addr: SocketAddr,
    ) -> Self {
        let argv = command_line(build);
        let at = argv
            .iter()
            .position(|a| a == "--config")
            .expect("headscale serve --config FILE");
        let installed = &argv[at + 1];
        let mut config: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(under(build, installed)).unwrap())
                .unwrap();
        adapt(&mut config, tree);
        let state = Path::new(
            config["database"]["sqlite"]["path"]
                .as_str()
                .expect("sqlite path"),
        )
        .parent()
        .unwrap()
        .to_owned();
        std::fs::create_dir_all(&state).unwrap();
        // In file mode Headscale does not start without its policy file:
        // the one `privai build` rendered, installed where apply keeps it.
        if config["policy"]["mode"].as_str() == Some("file") {
            let installed = config["policy"]["path"].as_str().expect("policy.path");
            let built = build.join(
                installed
                    .trim_start_matches(&*tree.to_string_lossy())
                    .trim_start_matches('/'),
            );
            std::fs::create_dir_all(Path::new(installed).parent().unwrap()).unwrap();
            std::fs::copy(&built, installed)
                .unwrap_or_else(|e| panic!("installing {}: {e}", built.display()));
        }
        let adapted = build.join("headscale-test-config.yaml");
        std::fs::write(&adapted, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
        let mut args: Vec<String> = argv[1..].to_vec();
        args[at] = adapted.to_string_lossy().into_owned();
        let log = build.join("headscale.log");
        let pid = net.spawn(host, program, &args, &[], &log);
        let headscale = Self {
            pid,
            config: adapted,
            log,
            program: program.to_owned(),
        };
        headscale.wait_listening(host, addr);
        headscale
    }

    fn wait_listening(&self, host: &Host, addr: SocketAddr) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if host.connects(addr, Duration::from_millis(500)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("Headscale did not listen on {addr}: {}", self.log_text());
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `headscale -c CONFIG ARGS` on `host`, which must succeed; its stdout.
    pub fn cli(&self, host: &Host, args: &[&str]) -> String {
        let mut all = vec!["-c", self.config.to_str().unwrap()];
        all.extend(args);
        let out = host.run(&self.program, &all);
        assert!(
            out.status.success(),
            "headscale {}: {}",
            args.join(" "),
            crate::tools::show(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new API key, valid for an hour.
    pub fn api_key(&self, host: &Host) -> String {
        let out = self.cli(host, &["apikeys", "create", "--expiration", "1h"]);
        out.lines().last().unwrap().trim().to_owned()
    }

    /// `headscale ... -o json` parsed.
    pub fn json(&self, host: &Host, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.cli(host, &all)).unwrap()
    }
}
