//! privai against the real Ollama (pinned, built from the Go module proxy)
//! and a tiny model of random weights: models pulled from a private mirror
//! through privai's own pull path, and created from a GGUF file; pinned in
//! `privai.lock`; a second apply that changes nothing; the models answer
//! through Ollama's real engine.

use crate::real::mirror::Mirror;
use crate::real::ollama::{Ollama, tiny_gguf};
use crate::tools::show;
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A Linux host `server` running Ollama on `port`, with `models` (TOML
/// tables) and the `extra` TOML of `ollama`.
fn spec(dir: &Path, port: u16, extra: &str, models: &str) -> PathBuf {
    let path = dir.join("privai.toml");
    std::fs::write(
        &path,
        format!(
            "[[hosts]]\nname = \"server\"\nplatform = \"linux\"\nram_gb = 16\nroles = [\"ollama\"]\n\n[ollama]\nport = {port}\n{extra}\n{models}"
        ),
    )
    .unwrap();
    path
}

/// `privai ARGS` with services recorded (so Ollama is asked, and the real
/// one answers), stdin closed.
fn privai(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("privai")
        .unwrap()
        .args(args)
        .env("PRIVAI_TEST_SERVICES", dir.join("services.log"))
        .env_remove("PRIVAI_TEST_FAILPOINT")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ollama's models: name → digest.
fn tags(ollama: &Ollama) -> Vec<(String, String)> {
    let tags: Value = reqwest::blocking::get(format!("{}/api/tags", ollama.url))
        .unwrap()
        .json()
        .unwrap();
    let mut models: Vec<(String, String)> = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    models.sort();
    models
}

/// Has `model` of `ollama` generate a few tokens; returns Ollama's answer.
fn generate(ollama: &Ollama, model: &str) -> Value {
    reqwest::blocking::Client::new()
        .post(format!("{}/api/generate", ollama.url))
        .json(&serde_json::json!({
            "model": model, "prompt": "hello", "stream": false,
            "options": { "num_predict": 4 },
        }))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn lock_digest(lock: &str, model: &str) -> String {
    let line = lock
        .lines()
        .skip_while(|l| !l.contains(&format!("\"{model}\"")))
        .find(|l| l.contains("sha256:"))
        .unwrap_or_else(|| panic!("{model} is not pinned in:\n{lock}"));
    line.split('"')
        .find(|p| p.starts_with("sha256:"))
        .unwrap()
        .to_owned()
}

#[test]
fn models_come_from_the_private_mirror_through_privai_s_pull_path_and_are_pinned() {
    // The mirror holds two tiny models, pushed by another Ollama.
    let mirror = Mirror::start();
    let source = Ollama::start();
    source.create_tiny("tiny", 1);
    source.create_tiny("tiny-fallback", 2);
    mirror.push(&source, "tiny");
    mirror.push(&source, "tiny-fallback");

    let server = Ollama::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(
        dir.path(),
        server.port,
        &format!(
            "registry = {{ host = \"{}\", insecure = true }}\n",
            mirror.host
        ),
        "[[ollama.models]]\nname = \"tiny:latest\"\nrole = \"primary\"\nsize_gb = 0.001\n\n[[ollama.models]]\nname = \"tiny-fallback:latest\"\nrole = \"fallback\"\nsize_gb = 0.001\n",
    );
    let root = dir.path().join("root");
    let (spec, root) = (spec.to_str().unwrap(), root.to_str().unwrap());

    let plan = privai(dir.path(), &["plan", spec, "--root", root]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    for model in ["tiny:latest", "tiny-fallback:latest"] {
        assert!(
            text(&plan).contains(&format!(
                "+ model server:{model} (0 MiB download, from mirror {}, plain HTTP)",
                mirror.host
            )),
            "{}",
            text(&plan)
        );
    }

    let apply = privai(
        dir.path(),
        &["apply", spec, "--root", root, "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    // Ollama has the models under the spec's names only, with the digests
    // of the mirror's manifests.
    let have = tags(&server);
    let names: Vec<&str> = have.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["tiny-fallback:latest", "tiny:latest"], "{have:?}");
    let digest_of = |models: &[(String, String)], name: &str| {
        models.iter().find(|(n, _)| n == name).unwrap().1.clone()
    };
    for name in ["tiny:latest", "tiny-fallback:latest"] {
        assert_eq!(digest_of(&have, name), mirror.digest(name), "{name}");
    }
    // The blobs came from the mirror, through the redirect.
    let access = mirror.access_log();
    assert!(
        access.contains("GET /v2/library/tiny/blobs/sha256:") && access.contains("\" 307 "),
        "{access}"
    );
    // Pinned in privai.lock beside the spec.
    let lock = std::fs::read_to_string(dir.path().join("privai.lock")).unwrap();
    assert_eq!(
        lock_digest(&lock, "tiny:latest"),
        format!("sha256:{}", digest_of(&have, "tiny:latest"))
    );
    // The model answers through Ollama's real engine.
    let answer = generate(&server, "tiny");
    assert_eq!(answer["done"], true, "{answer}");
    assert!(answer["eval_count"].as_u64().unwrap() > 0, "{answer}");
    let loaded = server.ps();
    assert_eq!(loaded["models"][0]["name"], "tiny:latest", "{loaded}");

    // A second plan: nothing to do.
    let again = privai(
        dir.path(),
        &["plan", spec, "--root", root, "--detailed-exitcode"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(text(&again).contains("No changes."), "{}", text(&again));
}

#[test]
fn a_model_is_created_from_a_gguf_file_and_its_digest_pinned() {
    let server = Ollama::start();
    let dir = tempfile::tempdir().unwrap();
    let gguf = tiny_gguf(dir.path(), 7);
    let size = std::fs::metadata(&gguf).unwrap().len();
    let spec = spec(
        dir.path(),
        server.port,
        "",
        &format!(
            "[[ollama.models]]\nname = \"tiny-file:latest\"\nrole = \"primary\"\nsize_gb = 0.001\nsource = \"file:{}\"\n",
            gguf.display()
        ),
    );
    let root = dir.path().join("root");
    let (spec, root) = (spec.to_str().unwrap(), root.to_str().unwrap());

    let plan = privai(dir.path(), &["plan", spec, "--root", root]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    assert!(
        text(&plan).contains(&format!(
            "+ model server:tiny-file:latest ({} MiB download, from file {})",
            (size as f64 / 1_048_576.0).round(),
            gguf.display()
        )),
        "{}",
        text(&plan)
    );

    let apply = privai(
        dir.path(),
        &["apply", spec, "--root", root, "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", show(&apply));
    let have = tags(&server);
    assert_eq!(have.len(), 1, "{have:?}");
    assert_eq!(have[0].0, "tiny-file:latest");
    let lock = std::fs::read_to_string(dir.path().join("privai.lock")).unwrap();
    assert_eq!(
        lock_digest(&lock, "tiny-file:latest"),
        format!("sha256:{}", have[0].1)
    );
    let answer = generate(&server, "tiny-file");
    assert_eq!(answer["done"], true, "{answer}");

    let again = privai(
        dir.path(),
        &["apply", spec, "--root", root, "--auto-approve"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(text(&again).contains("No changes."), "{}", text(&again));
}

/// `METHOD PATH` with JSON `body` to `url`: the status and the body.
fn ask(url: &str, method: &str, path: &str, body: Value) -> (u16, String) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let request = match method {
        "POST" => client.post(format!("{url}{path}")),
        "DELETE" => client.delete(format!("{url}{path}")),
        _ => client.get(format!("{url}{path}")),
    };
    let response = request.json(&body).send().unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// The `error` lines of a pull's stream.
fn pull_errors(stream: &str) -> Vec<String> {
    stream
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[test]
fn the_ollama_stand_in_answers_as_the_real_ollama_does_where_tests_rely_on_it() {
    use crate::standin::ollama::{Config, Standin};
    let mirror = Mirror::start();
    let real = Ollama::start();
    let standin = Standin::start(Config::with_registry(vec![]));
    // A model neither has: every read and write of it.
    for (method, path) in [
        ("POST", "/api/show"),
        ("DELETE", "/api/delete"),
        ("POST", "/api/generate"),
    ] {
        let body = serde_json::json!({ "model": "nosuch:latest", "stream": false });
        let (real_status, real_body) = ask(&real.url, method, path, body.clone());
        let (standin_status, standin_body) = ask(&standin.url, method, path, body);
        assert_eq!(
            (standin_status, standin_body.trim()),
            (real_status, real_body.trim()),
            "{method} {path}: the stand-in answers differently from Ollama"
        );
    }
    // A pull of a tag the registry lacks: HTTP 200, then an error line.
    let missing = format!("{}/library/nosuch:latest", mirror.host);
    let body = serde_json::json!({ "model": missing, "insecure": true });
    let (real_status, real_stream) = ask(&real.url, "POST", "/api/pull", body.clone());
    let (standin_status, standin_stream) = ask(&standin.url, "POST", "/api/pull", body);
    assert_eq!(standin_status, real_status);
    assert_eq!(pull_errors(&standin_stream), pull_errors(&real_stream));
}

#[test]
fn privai_models_sizes_an_installed_model_by_ollama_s_facts_close_to_what_ollama_loads() {
    let server = Ollama::start();
    server.create_tiny("tiny", 3);
    let dir = tempfile::tempdir().unwrap();
    // Ollama's defaults: an f16 KV cache without flash attention.
    let spec = spec(
        dir.path(),
        server.port,
        "context_length = 4096\nkv_cache_type = \"f16\"\nflash_attention = false\n",
        "[[ollama.models]]\nname = \"tiny:latest\"\nrole = \"primary\"\nsize_gb = 0.001\n",
    );
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args(["models", "--json", "--host", "server"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ollama"]["status"], "answered", "{report}");
    let model = &report["hosts"][0]["models"][0];
    assert_eq!(model["source"]["kind"], "ollama", "{model}");
    let estimate = &model["estimate"];

    // The tiny model: 2 layers, 4 KV heads of 16, 4096 tokens, f16 K and V.
    assert_eq!(estimate["kv_cache"], 2 * 4096 * 64 * 2 * 2, "{estimate}");
    assert_eq!(estimate["weights"], weights_of(&server), "{estimate}");

    // What Ollama itself says the model takes once loaded at that context.
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/api/generate", server.url))
        .json(&serde_json::json!({
            "model": "tiny", "prompt": "hi", "stream": false,
            "options": { "num_predict": 1, "num_ctx": 4096 },
        }))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(answer["done"], true, "{answer}");
    let loaded = server.ps();
    let ollama_size = loaded["models"][0]["size"].as_u64().unwrap();
    let privai_model =
        estimate["weights"].as_u64().unwrap() + estimate["kv_cache"].as_u64().unwrap();
    let difference = (privai_model as f64 - ollama_size as f64) / ollama_size as f64;
    println!(
        "fit: privai weights + KV cache {privai_model} B, Ollama's /api/ps size {ollama_size} B ({:+.1} %); privai adds {} B of compute overhead on top",
        difference * 100.0,
        estimate["compute"]
    );
    assert!(
        difference.abs() < 0.25,
        "privai {privai_model} B vs Ollama {ollama_size} B"
    );
    assert!(
        estimate["total"].as_u64().unwrap() >= ollama_size,
        "privai's total must not be below what Ollama loads: {estimate} vs {ollama_size}"
    );
}

/// What `/api/tags` says the model's files weigh.
fn weights_of(ollama: &Ollama) -> u64 {
    let tags: Value = reqwest::blocking::get(format!("{}/api/tags", ollama.url))
        .unwrap()
        .json()
        .unwrap();
    tags["models"][0]["size"].as_u64().unwrap()
}
