//! Model memory fit: the seed's llama3.3 on a 36 GB Mac, the profiles'
//! largest models, and `privai models`.

use assert_cmd::Command;
use privai::model::ModelRole;
use privai::sizing::catalog::Catalog;
use privai::sizing::fit::{Verdict, alternatives, assess, run_settings};
use privai::spec::{LoadedSpec, load};
use std::path::Path;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn load_text(text: &str) -> LoadedSpec {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.ncl");
    std::fs::write(&path, text).unwrap();
    load(&path).unwrap_or_else(|e| panic!("{:#?}", e.diagnostics))
}

#[test]
fn the_seed_as_written_fails_on_llama3_3_with_numbers_and_an_alternative() {
    let outcome = privai::check::check_file(&repo("examples/seed-as-written.ncl"));
    let fit: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == "PRV066" && d.is_error())
        .collect();
    assert_eq!(fit.len(), 1, "{:#?}", outcome.diagnostics);
    let d = fit[0];
    assert!(d.message.contains("70B"), "{}", d.message);
    assert!(d.message.contains("43.3 GiB"), "{}", d.message);
    assert!(d.message.contains("36 GB"), "{}", d.message);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("28.3 GiB GPU share of 36 GB"))
    );
    assert_eq!(
        d.path.as_ref().unwrap().to_string(),
        "ollama.models[0].name"
    );
    assert_eq!(d.location.as_ref().unwrap().line, 44);
    // The suggested models really fit that host.
    let hint = d.hint.as_deref().unwrap();
    assert!(hint.contains("qwen2.5:32b"), "{hint}");
    let loaded = load(&repo("examples/seed-as-written.ncl")).unwrap();
    let host = assess(&loaded.spec, Catalog::bundled()).unwrap();
    for alternative in &host.models[0].alternatives {
        assert!(hint.contains(&alternative.tag));
        assert!(alternative.total <= host.budget.available);
    }

    Command::cargo_bin("privai")
        .unwrap()
        .args(["check", "examples/seed-as-written.ncl"])
        .current_dir(repo(""))
        .assert()
        .code(1);
}

#[test]
fn the_seed_home_models_fit_the_36_gb_mac() {
    let loaded = load(&repo("examples/seed-home.ncl")).unwrap();
    let host = assess(&loaded.spec, Catalog::bundled()).unwrap();
    let budget_gib = host.budget.pool_bytes as f64 / privai::sizing::GIB;
    assert!((budget_gib - 28.3).abs() < 0.05, "{budget_gib}");
    assert!(host.models.iter().all(|m| m.verdict == Verdict::Fits));
    assert!(host.crowding.is_empty());
}

/// The parameters of the largest catalog chat model that fits a host with
/// `profile`, running Ollama alone, at the profile's settings.
fn largest_fitting_model(profile: &str) -> f64 {
    let loaded = load_text(&format!(
        r#"(import "privai/profiles/{profile}.ncl") & {{
          hosts = [ {{ name = "mac", roles = ['ollama] }} ],
          ollama.models = [ {{ name = "llama3.2:3b", role = 'primary }} ],
        }}"#
    ));
    let host = assess(&loaded.spec, Catalog::bundled()).unwrap();
    let settings = run_settings(&loaded.spec, &loaded.spec.ollama.models[0], None);
    let best = alternatives(
        Catalog::bundled(),
        ModelRole::Primary,
        &settings,
        u32::MAX,
        host.budget.available,
    );
    best[0].parameters_b
}

#[test]
fn a_16_gb_mac_runs_models_up_to_13b_to_14b() {
    let largest = largest_fitting_model("mac-16gb");
    assert!((13.0..15.0).contains(&largest), "largest model: {largest}B");
}

#[test]
fn an_8_gb_mac_runs_models_up_to_7b_to_8b() {
    let largest = largest_fitting_model("mac-8gb");
    assert!((7.0..9.0).contains(&largest), "largest model: {largest}B");
}

#[test]
fn a_36_gb_mac_runs_models_up_to_32b_to_34b() {
    let largest = largest_fitting_model("m3-pro-36gb");
    assert!((32.0..35.0).contains(&largest), "largest model: {largest}B");
}

#[test]
fn a_raised_gpu_wired_limit_raises_the_budget() {
    let loaded = load_text(
        r#"(import "privai/profiles/m3-pro-36gb.ncl") & {
          hosts = [ { name = "mac", roles = ['ollama], gpu_wired_limit_mb = 32768 } ],
        }"#,
    );
    let host = assess(&loaded.spec, Catalog::bundled()).unwrap();
    assert_eq!(host.budget.available, 32 * 1024 * 1024 * 1024);
}

#[test]
fn models_kept_warm_must_fit_together() {
    let loaded = load_text(
        r#"{
          hosts = [ { name = "mac", platform = 'darwin, ram_gb = 36, roles = ['ollama] } ],
          ollama.models = [
            { name = "qwen2.5:32b", role = 'primary, keep_warm = true },
            { name = "gemma3:12b", role = 'fallback, keep_warm = true },
          ],
        }"#,
    );
    let codes: Vec<_> = privai::check::run(&loaded)
        .into_iter()
        .filter(|d| d.code == "PRV066")
        .map(|d| (d.path.unwrap().to_string(), d.severity))
        .collect();
    assert_eq!(
        codes,
        vec![(
            "ollama.models[1].keep_warm".to_string(),
            privai::diagnostic::Severity::Error
        )]
    );
}

#[test]
fn an_unknown_model_is_an_error_with_a_suggestion_and_a_stated_size_a_warning() {
    let unknown = load_text(
        r#"{ hosts = [ { name = "mac", platform = 'darwin, ram_gb = 16, roles = ['ollama] } ],
             ollama.models = [ { name = "lama3.1:8b", role = 'primary } ] }"#,
    );
    let d = privai::check::run(&unknown)
        .into_iter()
        .find(|d| d.code == "PRV067")
        .unwrap();
    assert!(d.is_error());
    assert!(d.hint.unwrap().contains("`llama3.1:8b`"));

    let sized = load_text(
        r#"{ hosts = [ { name = "mac", platform = 'darwin, ram_gb = 16, roles = ['ollama] } ],
             ollama.models = [ { name = "my-finetune:7b", role = 'primary, size_gb = 4.1 } ] }"#,
    );
    let d = privai::check::run(&sized)
        .into_iter()
        .find(|d| d.code == "PRV067")
        .unwrap();
    assert!(!d.is_error());
    assert_eq!(d.path.unwrap().to_string(), "ollama.models[0].size_gb");
}

#[test]
fn every_catalog_entry_cites_its_sources_and_resolves_by_name() {
    let catalog = Catalog::bundled();
    assert!(catalog.model.len() >= 20);
    for m in &catalog.model {
        for key in ["size", "architecture", "context"] {
            assert!(
                m.sources.contains_key(key),
                "{} cites no {key} source",
                m.tag
            );
        }
        assert!(m.tag.contains(':'), "{} is not NAME:SIZE", m.tag);
        assert_eq!(catalog.find(&m.tag).unwrap().tag, m.tag);
        for alias in &m.aliases {
            assert_eq!(catalog.find(alias).unwrap().tag, m.tag, "alias {alias}");
        }
    }
    assert_eq!(catalog.find("llama3.3").unwrap().tag, "llama3.3:70b");
    assert!(catalog.find("llama3.3:8b").is_none());
}

#[test]
fn privai_models_prints_a_table_and_alternatives_and_fails_when_a_model_does_not_fit() {
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args(["models", "--offline", "examples/seed-as-written.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("host openclaw-server: 28.3 GiB GPU share of 36 GB"),
        "{text}"
    );
    assert!(text.contains("llama3.3 (llama3.3:70b)"), "{text}");
    assert!(text.contains("DOES NOT FIT"), "{text}");
    assert!(text.contains("Largest primary models that do:"), "{text}");
}

#[test]
fn privai_models_json_reports_budget_estimates_and_verdicts() {
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args(["models", "--offline", "--json", "examples/seed-home.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], 1);
    let host = &report["hosts"][0];
    assert_eq!(host["budget"]["host"], "openclaw-server");
    assert_eq!(host["models"][0]["name"], "codellama:13b");
    assert_eq!(host["models"][0]["verdict"], "fits");
    assert!(host["models"][0]["estimate"]["total"].as_u64().unwrap() > 10 * (1 << 30));
}
