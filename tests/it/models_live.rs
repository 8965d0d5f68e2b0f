//! `privai models` against a running Ollama (the stand-in on 127.0.0.1): the
//! models Ollama has are sized from its own facts (`/api/show`, and the
//! weights' size from `/api/tags`), the others from the catalog; `--offline`
//! never asks; an Ollama that does not answer leaves the catalog's facts and
//! one line saying so.

use crate::standin::ollama::{Config, Model, Standin};
use crate::tools::{free_port, show};
use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Output;

const GIB: u64 = 1024 * 1024 * 1024;
/// What `/api/tags` says `llama3.2:3b` weighs here (an 8B model's size).
const WEIGHTS: u64 = 4_920_753_328;

/// A spec for a 36 GB Mac named `mac` (the profile's q8_0 KV cache, 16k
/// tokens), whose Ollama listens on `port`: `codellama:13b` (primary) and
/// `llama3.2:3b` (fallback) at `fallback_context` tokens.
fn spec(dir: &tempfile::TempDir, port: u16, fallback_context: u32) -> PathBuf {
    let path = dir.path().join("privai.ncl");
    std::fs::write(
        &path,
        format!(
            r#"(import "privai/profiles/m3-pro-36gb.ncl") & {{
  hosts = [ {{ name = "mac", roles = ['ollama] }} ],
  ollama.port = {port},
  ollama.models = [
    {{ name = "codellama:13b", role = 'primary }},
    {{ name = "llama3.2:3b", role = 'fallback, context_length = {fallback_context} }},
  ],
}}
"#
        ),
    )
    .unwrap();
    path
}

/// A llama as Ollama's `/api/show` reports it: `layers` blocks, `kv_heads`
/// KV heads of 128 (4096 / 32), trained for 131072 tokens; 8.0B Q4_K_M.
fn llama(name: &str, layers: u32, kv_heads: u32) -> Model {
    Model::new(name, WEIGHTS).info(json!({
        "general.architecture": "llama",
        "general.parameter_count": 8_030_261_248_u64,
        "llama.attention.head_count": 32,
        "llama.attention.head_count_kv": kv_heads,
        "llama.block_count": layers,
        "llama.context_length": 131_072,
        "llama.embedding_length": 4096,
    }))
}

/// A stand-in that has pulled `model` (and nothing else).
fn ollama_with(model: Model) -> Standin {
    Standin::start(Config {
        local: vec![model.name.clone()],
        ..Config::with_registry(vec![model])
    })
}

fn port_of(standin: &Standin) -> u16 {
    standin.url.rsplit(':').next().unwrap().parse().unwrap()
}

/// `privai models SPEC --host mac ARGS` (this machine is `mac`).
fn models(spec: &PathBuf, args: &[&str]) -> Output {
    Command::cargo_bin("privai")
        .unwrap()
        .arg("models")
        .arg(spec)
        .args(["--host", "mac"])
        .args(args)
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}\n{}", show(output)))
}

/// The row of `name` in the table.
fn row<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{output}"))
}

#[test]
fn privai_models_sizes_the_models_ollama_has_from_ollama_s_facts() {
    let ollama = ollama_with(llama("llama3.2:3b", 32, 8));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&dir, port_of(&ollama), 16384);

    let out = models(&spec, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(out.stderr.is_empty(), "{}", show(&out));
    let report = json_of(&out);
    assert_eq!(report["version"], 1);
    assert_eq!(report["ollama"]["status"], "answered");
    assert_eq!(report["ollama"]["url"], ollama.url.as_str());
    assert_eq!(report["ollama"]["version"], "0.33.0");

    let fallback = &report["hosts"][0]["models"][1];
    assert_eq!(fallback["name"], "llama3.2:3b");
    let digest = ollama.local_digest("llama3.2:3b").unwrap();
    assert_eq!(
        fallback["source"],
        json!({
            "kind": "ollama",
            "name": "llama3.2:3b",
            "digest": format!("sha256:{digest}"),
            "architecture": "llama",
        })
    );
    assert_eq!(fallback["parameters_b"], 8.0);
    assert_eq!(fallback["quantization"], "Q4_K_M");
    assert_eq!(fallback["download_bytes"], WEIGHTS);
    // 32 layers × K and V × 8 heads × 128 × 34/32 bytes (q8_0) × 16384 tokens,
    // where the catalog's llama3.2:3b has 28 layers and 2.0 GB of weights.
    let kv = 32 * 2 * 8 * 128 * 34 / 32 * 16384;
    assert_eq!(
        fallback["estimate"],
        json!({
            "context": 16384,
            "weights": WEIGHTS,
            "kv_cache": kv,
            "compute": GIB,
            "total": WEIGHTS + kv + GIB,
        })
    );
    // Ollama lacks codellama:13b: the catalog sizes it.
    let primary = &report["hosts"][0]["models"][0];
    assert_eq!(
        primary["source"],
        json!({ "kind": "catalog", "tag": "codellama:13b" })
    );
    let asked: Vec<(String, String)> = ollama
        .log()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        [
            ("GET", "/api/version"),
            ("GET", "/api/tags"),
            ("POST", "/api/show")
        ]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
    );

    let table = models(&spec, &[]);
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    assert_eq!(table.status.code(), Some(0), "{}", show(&table));
    assert!(text.contains("FACTS"), "{text}");
    let fallback_row = row(&text, "llama3.2:3b");
    assert!(fallback_row.contains(" ollama "), "{text}");
    assert!(fallback_row.contains(" 8B "), "{text}");
    assert!(row(&text, "codellama:13b").contains(" catalog "), "{text}");
}

#[test]
fn ollama_s_facts_can_make_a_model_that_fits_by_the_catalog_too_big_and_offline_keeps_the_catalog()
{
    // Ollama's llama3.2:3b has 32 KV heads (the catalog's has 8) and 32
    // layers: at 128k tokens its KV cache alone is 34 GiB.
    let ollama = ollama_with(llama("llama3.2:3b", 32, 32));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&dir, port_of(&ollama), 131_072);

    let online = models(&spec, &[]);
    let text = String::from_utf8_lossy(&online.stdout).into_owned();
    assert_eq!(online.status.code(), Some(1), "{}", show(&online));
    let fallback_row = row(&text, "llama3.2:3b");
    assert!(fallback_row.contains(" ollama "), "{text}");
    assert!(fallback_row.ends_with("DOES NOT FIT"), "{text}");
    assert!(text.contains("llama3.2:3b does not fit."), "{text}");
    ollama.clear_log();

    let offline = models(&spec, &["--offline"]);
    let text = String::from_utf8_lossy(&offline.stdout).into_owned();
    assert_eq!(offline.status.code(), Some(0), "{}", show(&offline));
    assert!(offline.stderr.is_empty(), "{}", show(&offline));
    let fallback_row = row(&text, "llama3.2:3b");
    assert!(fallback_row.contains(" catalog "), "{text}");
    assert!(fallback_row.ends_with("fits"), "{text}");

    let offline = json_of(&models(&spec, &["--offline", "--json"]));
    assert_eq!(offline["ollama"], json!({ "status": "offline" }));
    let loaded = privai::spec::load(&spec).unwrap();
    let by_catalog =
        privai::sizing::fit::assess(&loaded.spec, privai::sizing::catalog::Catalog::bundled())
            .unwrap();
    assert_eq!(
        offline["hosts"][0]["models"][1]["estimate"]["total"],
        by_catalog.models[1].estimate.unwrap().total
    );
    assert_eq!(
        offline["hosts"][0]["models"][1]["source"],
        json!({ "kind": "catalog", "tag": "llama3.2:3b" })
    );
    assert!(ollama.log().is_empty(), "{:?}", ollama.log());
}

#[test]
fn ollama_on_another_host_is_not_asked() {
    let ollama = ollama_with(llama("llama3.2:3b", 32, 8));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&dir, port_of(&ollama), 16384);
    // A second host, `laptop`, that runs no Ollama.
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "hosts = [ { name = \"mac\", roles = ['ollama] } ],",
        "hosts = [ { name = \"mac\", roles = ['ollama] }, { name = \"laptop\", roles = [] } ],",
    );
    assert!(text.contains("\"laptop\""), "{text}");
    std::fs::write(&spec, text).unwrap();
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args(["models", "--json", "--host", "laptop"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        json_of(&out)["ollama"],
        json!({ "status": "elsewhere", "ollama_host": "mac", "this_host": "laptop" })
    );
    assert!(ollama.log().is_empty(), "{:?}", ollama.log());
}

#[test]
fn an_ollama_that_does_not_answer_leaves_catalog_facts_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let spec = spec(&dir, port, 16384);
    let out = models(&spec, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Ollama not reachable at http://127.0.0.1:{port}: catalog facts\n")
    );
    let report = json_of(&out);
    assert_eq!(report["ollama"]["status"], "unreachable");
    for model in report["hosts"][0]["models"].as_array().unwrap() {
        assert_eq!(model["source"]["kind"], "catalog", "{model}");
    }
}

#[test]
fn plan_notes_a_model_that_does_not_fit_by_ollama_s_own_facts() {
    let ollama = ollama_with(llama("llama3.2:3b", 32, 32));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(&dir, port_of(&ollama), 131_072);
    let root = dir.path().join("root");
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args([
            "plan",
            spec.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
        ])
        .env("PRIVAI_TEST_SERVICES", dir.path().join("services.log"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text.contains("Note: by Ollama's own facts, model llama3.2:3b needs ")
            && text.contains("is left for models on mac; `privai models` shows the fit"),
        "{text}"
    );
    assert!(
        ollama.log().iter().any(|l| l.path == "/api/show"),
        "{:?}",
        ollama.log()
    );
}
