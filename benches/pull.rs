//! Pull throughput: privai's Ollama client against `curl`, both reading
//! the same `POST /api/pull` stream from the stand-in Ollama on 127.0.0.1
//! (`tests/standin`, whose pull streams as many bytes of progress lines as
//! the model is large). Prints MB/s for each and privai's share of curl's.
//!
//! `cargo bench --bench pull [-- SIZE_MB RUNS]` (defaults 256 MB, 5 runs).

use privai::api::ollama::Client;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let size_mb: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(256);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);

    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--example", "standin"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the stand-in failed");
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/standin");
    // A fresh tag for every pull: the stand-in, like Ollama, keeps the
    // blobs of a deleted model and would not download them again.
    let tags: Vec<(String, String)> = (0..runs)
        .map(|i| {
            (
                format!("bench-curl-{i}:latest"),
                format!("bench-privai-{i}:latest"),
            )
        })
        .collect();
    let mut command = Command::new(binary);
    command.args([
        "ollama",
        "--port",
        "0",
        "--model-size-mb",
        &size_mb.to_string(),
    ]);
    for (a, b) in &tags {
        command.args(["--model", a, "--model", b]);
    }
    let mut standin = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the stand-in starts");
    let mut url = String::new();
    BufReader::new(standin.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    let client = Client::new(&url).unwrap();

    let mut curl = Vec::new();
    let mut ours = Vec::new();
    let mut bytes = 0u64;
    for (for_curl, for_privai) in &tags {
        let start = Instant::now();
        let out = Command::new("curl")
            .args(["-s", "-N", "-X", "POST", &format!("{url}/api/pull")])
            .args([
                "-d",
                &format!("{{\"model\":\"{for_curl}\"}}"),
                "-o",
                "/dev/null",
            ])
            .args(["-w", "%{size_download}"])
            .output()
            .expect("curl runs (apt-get install -y curl)");
        curl.push(start.elapsed().as_secs_f64());
        bytes = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);

        let start = Instant::now();
        let mut lines = 0u64;
        client
            .pull(for_privai, &mut |_| lines += 1)
            .expect("the pull succeeds");
        ours.push(start.elapsed().as_secs_f64());
    }
    let _ = standin.kill();
    let _ = standin.wait();
    curl.sort_by(f64::total_cmp);
    ours.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    let mbps = |secs: f64| bytes as f64 / 1e6 / secs;
    println!(
        "pull of a {size_mb} MB model's progress stream ({bytes} bytes), {runs} runs, median:"
    );
    println!(
        "  curl     {:8.1} MB/s  ({:.3} s)",
        mbps(median(&curl)),
        median(&curl)
    );
    println!(
        "  privai   {:8.1} MB/s  ({:.3} s)",
        mbps(median(&ours)),
        median(&ours)
    );
    println!(
        "  privai / curl: {:.0} %",
        100.0 * median(&curl) / median(&ours)
    );
}
