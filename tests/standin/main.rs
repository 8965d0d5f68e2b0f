//! Runs a stand-in service on 127.0.0.1 until killed, for benchmarks and
//! manual tries; prints its URL on the first line of stdout.
//!
//! ```text
//! cargo run --release --example standin -- ollama [--port 0] [--model-size-mb 512]
//!     [--model NAME]... [--pulled NAME]... [--lines-per-blob N] [--line-delay-ms N]
//! cargo run --release --example standin -- headscale --api-key KEY
//! ```
//!
//! - `--model NAME` (repeatable): a tag its registry offers (default: the
//!   seed spec's `codellama:13b` and `llama3.2:3b`), each
//!   `--model-size-mb` MiB large (default 512);
//! - `--pulled NAME` (repeatable): a model it already has;
//! - progress: by default each pull streams as many bytes of progress lines
//!   as the model is large; `--lines-per-blob N` sends about N lines per
//!   blob instead; `--line-delay-ms` pauses between lines.
//! - `headscale`: the Headscale stand-in on a free port, accepting the API
//!   key `KEY`, in database policy mode, with no users, keys or nodes.

// Writes its own scratch files with std::fs (clippy.toml's rule is for privai).
#![allow(clippy::disallowed_methods)]

#[path = "mod.rs"]
mod standin;

use standin::ollama::{Config, Model, Progress, Standin};
use std::io::Write;
use std::time::Duration;

const USAGE: &str = "usage: standin ollama [--port N] [--model-size-mb N] [--model NAME]... [--pulled NAME]... [--lines-per-blob N] [--line-delay-ms N]
       standin headscale --api-key KEY";

fn main() {
    if let Err(message) = run() {
        eprintln!("standin: {message}\n{USAGE}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("ollama") => {}
        Some("headscale") => {
            let key = match (args.next().as_deref(), args.next()) {
                (Some("--api-key"), Some(key)) => key,
                _ => return Err("`headscale` needs `--api-key KEY`".to_owned()),
            };
            let standin = standin::headscale::Standin::start(&key);
            return serve(&standin.url);
        }
        Some(other) => return Err(format!("unknown service `{other}`")),
        None => return Err("name a service".to_owned()),
    }
    let mut config = Config {
        progress: Progress::FollowSize,
        ..Config::default()
    };
    let mut size_mb: u64 = 512;
    let mut names = Vec::new();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("`{flag}` needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("`{flag}` takes a number, not `{text}`"))
        };
        match flag.as_str() {
            "--port" => {
                config.port = u16::try_from(number(value()?)?)
                    .map_err(|_| "`--port` is at most 65535".to_owned())?;
            }
            "--model-size-mb" => size_mb = number(value()?)?,
            "--model" => names.push(value()?),
            "--pulled" => config.local.push(value()?),
            "--lines-per-blob" => config.progress = Progress::Lines(number(value()?)?),
            "--line-delay-ms" => config.line_delay = Duration::from_millis(number(value()?)?),
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    if names.is_empty() {
        names = vec!["codellama:13b".to_owned(), "llama3.2:3b".to_owned()];
    }
    for pulled in &config.local {
        if !names.contains(pulled) {
            names.push(pulled.clone());
        }
    }
    config.registry = names
        .iter()
        .map(|name| Model::new(name, size_mb * 1024 * 1024))
        .collect();
    let standin = Standin::start(config);
    serve(&standin.url)
}

/// Prints `url` and serves until killed.
fn serve(url: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{url}").map_err(|e| e.to_string())?;
    stdout.flush().map_err(|e| e.to_string())?;
    drop(stdout);
    loop {
        std::thread::park();
    }
}
