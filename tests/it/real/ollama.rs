//! The real Ollama on 127.0.0.1, with its own models directory and home.

use super::{Group, wait_for};
use crate::tools::{free_port, installed, repo, show};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A template that takes tools (Ollama refuses tools for a model whose
/// template has no `.Tools`).
const CHAT_TEMPLATE: &str = "{{- if .Tools }}tools:{{ range .Tools }} {{ .Function.Name }}{{ end }}\n{{ end }}{{- range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}assistant: ";

/// A running `ollama serve`.
pub struct Ollama {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its port.
    pub port: u16,
    /// Its directory: `models/`, `home/`, `serve.log`.
    pub dir: tempfile::TempDir,
    /// The network namespace it runs in (`ip netns` name), if not this
    /// process's: its loopback is that namespace's.
    netns: Option<String>,
    process: Option<Group>,
}

impl Ollama {
    /// Starts Ollama on a free port of 127.0.0.1.
    pub fn start() -> Self {
        Self::start_at(None, free_port())
    }

    /// Starts Ollama on `127.0.0.1:port` of the network namespace `netns`
    /// (an `ip netns` name), or of this process's.
    pub fn start_at(netns: Option<&str>, port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ollama = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            netns: netns.map(str::to_owned),
            process: None,
        };
        ollama.restart();
        ollama
    }

    /// Runs `f` (which may open sockets) in Ollama's network namespace.
    pub fn near<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.netns {
            Some(ns) => crate::tailnet::net::enter(ns, f),
            None => f(),
        }
    }

    /// `GET PATH` of Ollama's API, parsed.
    pub fn get(&self, path: &str) -> serde_json::Value {
        self.near(|| {
            reqwest::blocking::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("{}{path}", self.url))
                .send()
                .and_then(|r| r.json())
                .unwrap_or_else(|e| panic!("GET {}{path}: {e}", self.url))
        })
    }

    /// Starts it again (after [`Self::stop`]), with the models it had.
    pub fn restart(&mut self) {
        let log = self.log_path();
        for sub in ["models", "home"] {
            std::fs::create_dir_all(self.dir.path().join(sub)).unwrap();
        }
        let child = self
            .command()
            .arg("serve")
            .process_group(0)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .unwrap();
        self.process = Some(Group(child));
        self.near(|| {
            wait_for(
                &format!("{}/api/version", self.url),
                Duration::from_secs(60),
                &log,
            )
        });
    }

    /// Stops it (killed with its model runners, and reaped);
    /// [`Self::restart`] starts it again.
    pub fn stop(&mut self) {
        self.process = None;
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// The `ollama` command, talking to this server.
    pub fn command(&self) -> Command {
        let program = installed("ollama", "ollama");
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns]).arg(program);
                cmd
            }
            None => Command::new(program),
        };
        cmd.env("OLLAMA_HOST", format!("127.0.0.1:{}", self.port))
            .env("OLLAMA_MODELS", self.dir.path().join("models"))
            .env("HOME", self.dir.path().join("home"))
            .env("OLLAMA_NO_CLOUD", "1")
            .env_remove("http_proxy")
            .env_remove("https_proxy");
        cmd
    }

    /// Runs `ollama ARGS`, which must succeed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(out.status.success(), "ollama {args:?}: {}", show(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates model `name` from a tiny GGUF of random weights made with
    /// `seed` (a different seed, different weights and digest).
    pub fn create_tiny(&self, name: &str, seed: u32) {
        let gguf = tiny_gguf(self.dir.path(), seed);
        let modelfile = self.dir.path().join(format!("Modelfile-{seed}"));
        std::fs::write(
            &modelfile,
            format!("FROM {}\nTEMPLATE {{{{ .Prompt }}}}\n", gguf.display()),
        )
        .unwrap();
        self.cli(&["create", name, "-f", modelfile.to_str().unwrap()]);
    }

    /// Creates model `name` for chat with tools, as OpenClaw's agent asks:
    /// a tiny GGUF made with `seed`, a context of 16,384 tokens (OpenClaw
    /// wants at least 16,000) and a vocabulary holding the words of
    /// OpenClaw's prompt (`tests/tools/openclaw-words.txt`), under a
    /// template that takes tools; it says at most 8 tokens.
    pub fn create_tiny_chat(&self, name: &str, seed: u32) {
        let gguf = tiny_gguf_with(
            self.dir.path(),
            seed,
            &[
                "--context",
                "16384",
                "--words",
                repo("tests/tools/openclaw-words.txt").to_str().unwrap(),
            ],
        );
        let modelfile = self.dir.path().join(format!("Modelfile-chat-{seed}"));
        std::fs::write(
            &modelfile,
            format!(
                "FROM {}\nTEMPLATE \"\"\"{CHAT_TEMPLATE}\"\"\"\nPARAMETER num_predict 8\n",
                gguf.display()
            ),
        )
        .unwrap();
        self.cli(&["create", name, "-f", modelfile.to_str().unwrap()]);
    }

    /// `GET /api/ps`: the models loaded now.
    pub fn ps(&self) -> serde_json::Value {
        self.get("/api/ps")
    }
}

/// Writes `DIR/tiny-SEED.gguf` (llama, 2 layers, byte vocabulary, random
/// weights) with `tests/tools/tiny-gguf.py`; returns its path.
pub fn tiny_gguf(dir: &Path, seed: u32) -> PathBuf {
    tiny_gguf_with(dir, seed, &[])
}

/// [`tiny_gguf`] with more arguments of `tiny-gguf.py`, to
/// `DIR/tiny-SEED-N.gguf` when there are N of them.
pub fn tiny_gguf_with(dir: &Path, seed: u32, args: &[&str]) -> PathBuf {
    let path = if args.is_empty() {
        dir.join(format!("tiny-{seed}.gguf"))
    } else {
        dir.join(format!("tiny-{seed}-{}.gguf", args.len()))
    };
    let out = Command::new(installed("gguf", "python"))
        .arg(repo("tests/tools/tiny-gguf.py"))
        .arg(&path)
        .args(["--seed", &seed.to_string()])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "tiny-gguf.py: {}", show(&out));
    path
}
