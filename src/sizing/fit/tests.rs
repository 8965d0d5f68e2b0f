use super::*;
use crate::check::testing::load;
use crate::sizing::estimate::kv_cache;
use serde_json::json;

/// A 36 GB Mac running Ollama with an f16 KV cache and:
/// 0. `llama3.1:8b` (catalog: 8 KV heads) at 64k tokens: 13.6 GiB, fits;
/// 1. `llama3.2:3b` (catalog), the fallback;
/// 2. `my-finetune:7b`, not in the catalog, 4.1 GB as the spec states.
const SPEC: &str = r#"(import "privai/profiles/m3-pro-36gb.ncl") & {
  hosts = [ { name = "mac", roles = ['ollama] } ],
  ollama.kv_cache_type = 'f16,
  ollama.models = [
    { name = "llama3.1:8b", role = 'primary, context_length = 65536 },
    { name = "llama3.2:3b", role = 'fallback },
    { name = "my-finetune:7b", role = 'code, size_gb = 4.1 },
  ],
}"#;

fn spec() -> Spec {
    load(SPEC, "ncl").spec
}

/// What Ollama reports for `name`: `facts`, 8.0B Q4_K_M, a llama.
fn reported(name: &str, facts: ModelFacts) -> OllamaModel {
    OllamaModel {
        name: name.to_owned(),
        digest: format!("sha256:{}", "a".repeat(64)),
        architecture: "llama".to_owned(),
        parameters_b: Some(8.0),
        quantization: Some("Q4_K_M".to_owned()),
        embedding: false,
        facts,
    }
}

fn catalog_facts(tag: &str) -> ModelFacts {
    Catalog::bundled().find(tag).unwrap().facts()
}

fn fit_of<'a>(fit: &'a HostFit, name: &str) -> &'a ModelFit {
    fit.models.iter().find(|m| m.name == name).unwrap()
}

#[test]
fn more_kv_heads_reported_by_ollama_make_a_bigger_kv_cache_and_can_make_a_model_too_big() {
    let spec = spec();
    let catalog = Catalog::bundled();
    let by_catalog = assess(&spec, catalog).unwrap();
    let before = fit_of(&by_catalog, "llama3.1:8b");
    assert_eq!(before.verdict, Verdict::Fits);

    // Ollama's copy of the tag has no grouped-query attention: 32 KV heads, not 8.
    let facts = ModelFacts {
        kv_heads: 32,
        ..catalog_facts("llama3.1:8b")
    };
    let exact: Exact = [reported("llama3.1:8b", facts)].into_iter().collect();
    let by_ollama = assess_with(&spec, catalog, &exact).unwrap();
    let after = fit_of(&by_ollama, "llama3.1:8b");

    let kv_before = before.estimate.unwrap().kv_cache;
    let kv_after = after.estimate.unwrap().kv_cache;
    assert_eq!(kv_after, 4 * kv_before);
    assert_eq!(kv_after, kv_cache(&facts, 65536, 1, KvCacheType::F16));
    assert_eq!(after.verdict, Verdict::TooBig);
    assert_eq!(
        after.source,
        FactsSource::Ollama {
            name: "llama3.1:8b".to_owned(),
            digest: format!("sha256:{}", "a".repeat(64)),
            architecture: "llama".to_owned(),
        }
    );
    // The KV cache is known, so the setting changes that fit are offered.
    assert!(
        after.fixes.iter().any(|f| f.contains("q8_0")),
        "{:?}",
        after.fixes
    );
    assert!(!after.alternatives.is_empty());
}

#[test]
fn ollama_s_weights_and_context_replace_the_catalog_s() {
    let spec = spec();
    let facts = ModelFacts {
        weights_bytes: 5_000_000_000,
        native_context: 8192,
        ..catalog_facts("llama3.1:8b")
    };
    let exact: Exact = [reported("llama3.1:8b", facts)].into_iter().collect();
    let fit = assess_with(&spec, Catalog::bundled(), &exact).unwrap();
    let model = fit_of(&fit, "llama3.1:8b");
    let e = model.estimate.unwrap();
    assert_eq!(e.weights, 5_000_000_000);
    assert_eq!(e.context, 8192);
    assert_eq!(model.download_bytes, Some(5_000_000_000));
    assert_eq!(model.parameters_b, Some(8.0));
    assert_eq!(model.quantization.as_deref(), Some("Q4_K_M"));
}

#[test]
fn a_model_ollama_lacks_keeps_the_catalog_facts() {
    let spec = spec();
    let catalog = Catalog::bundled();
    let exact: Exact = [reported("llama3.1:8b", catalog_facts("llama3.1:8b"))]
        .into_iter()
        .collect();
    let with = assess_with(&spec, catalog, &exact).unwrap();
    let without = assess(&spec, catalog).unwrap();
    let model = fit_of(&with, "llama3.2:3b");
    assert_eq!(model, fit_of(&without, "llama3.2:3b"));
    assert_eq!(
        model.source,
        FactsSource::Catalog {
            tag: "llama3.2:3b".to_owned()
        }
    );
}

#[test]
fn a_stated_size_model_is_sized_exactly_when_ollama_has_it() {
    let spec = spec();
    let catalog = Catalog::bundled();
    let stated = assess(&spec, catalog).unwrap();
    let before = fit_of(&stated, "my-finetune:7b");
    assert_eq!(before.source, FactsSource::StatedSize);
    assert_eq!(before.estimate.unwrap().kv_cache, 0);

    let facts = ModelFacts {
        weights_bytes: 4_100_000_000,
        ..catalog_facts("codellama:7b")
    };
    let exact: Exact = [reported("my-finetune:7b", facts)].into_iter().collect();
    let exactly = assess_with(&spec, catalog, &exact).unwrap();
    let after = fit_of(&exactly, "my-finetune:7b");
    assert!(matches!(after.source, FactsSource::Ollama { .. }));
    let e = after.estimate.unwrap();
    assert_eq!(e.weights, 4_100_000_000);
    // The code role runs at the profile's 16k tokens; the KV cache now counts.
    assert_eq!(e.kv_cache, kv_cache(&facts, 16384, 1, KvCacheType::F16));
    assert!(e.kv_cache > 0);
    assert!(after.source.knows_kv_cache() && !before.source.knows_kv_cache());
}

#[test]
fn without_exact_facts_assess_with_is_assess() {
    let spec = spec();
    let catalog = Catalog::bundled();
    assert_eq!(
        assess_with(&spec, catalog, &Exact::none()),
        assess(&spec, catalog)
    );
}

#[test]
fn exact_facts_are_found_by_any_name_ollama_would_accept() {
    let exact: Exact = [reported("llama3.2:latest", catalog_facts("llama3.2:3b"))]
        .into_iter()
        .collect();
    assert_eq!(exact.len(), 1);
    for name in [
        "llama3.2",
        "Llama3.2:latest",
        "registry.ollama.ai/library/llama3.2:latest",
    ] {
        assert!(exact.get(name).is_some(), "{name}");
    }
    assert!(exact.get("llama3.2:3b").is_none());
}

#[test]
fn an_ollama_embedding_model_runs_with_one_slot() {
    let spec = load(
        r#"(import "privai/profiles/m3-pro-36gb.ncl") & {
          hosts = [ { name = "mac", roles = ['ollama] } ],
          ollama.num_parallel = 4,
          ollama.models = [ { name = "my-embedder:latest", role = 'extra } ],
        }"#,
        "ncl",
    )
    .spec;
    let facts = catalog_facts("nomic-embed-text");
    let mut model = reported("my-embedder", facts);
    model.embedding = true;
    let fit = assess_with(&spec, Catalog::bundled(), &[model].into_iter().collect()).unwrap();
    let e = fit.models[0].estimate.unwrap();
    assert_eq!(
        e.kv_cache,
        kv_cache(&facts, 16384, 1, spec.ollama.kv_cache_type)
    );
}

/// `/api/show` of a gemma3 model, as Ollama answers it.
fn gemma_show() -> serde_json::Value {
    json!({
        "details": { "parameter_size": "27.4B", "quantization_level": "Q4_K_M" },
        "model_info": {
            "general.architecture": "gemma3",
            "general.parameter_count": 27_432_406_640_u64,
            "gemma3.block_count": 62,
            "gemma3.attention.head_count": 32,
            "gemma3.attention.head_count_kv": 16,
            "gemma3.attention.key_length": 128,
            "gemma3.context_length": 131_072,
            "gemma3.attention.sliding_window": 1024,
            "gemma3.embedding_length": 5376
        }
    })
}

fn local(name: &str, size: u64) -> LocalModel {
    LocalModel {
        name: name.to_owned(),
        model: name.to_owned(),
        digest: "A418F5838EAF".repeat(5) + "abcd",
        size,
    }
}

#[test]
fn ollama_facts_come_from_show_and_the_weights_from_tags() {
    let show = crate::observe::ollama::ModelFacts::from_show(&gemma_show());
    let model = OllamaModel::from_api(&local("gemma3:27b", 17_396_936_941), &show).unwrap();
    assert_eq!(model.name, "gemma3:27b");
    assert!(
        model.digest.starts_with("sha256:a418f5838eafa418"),
        "{}",
        model.digest
    );
    assert_eq!(model.architecture, "gemma3");
    assert_eq!(model.parameters_b, Some(27.4));
    assert_eq!(model.quantization.as_deref(), Some("Q4_K_M"));
    assert!(!model.embedding);
    assert_eq!(model.facts, catalog_facts("gemma3:27b"));
}

#[test]
fn a_show_answer_lacking_a_fact_the_estimate_needs_gives_no_exact_facts() {
    let mut answer = gemma_show();
    answer["model_info"]
        .as_object_mut()
        .unwrap()
        .remove("gemma3.attention.head_count_kv");
    let show = crate::observe::ollama::ModelFacts::from_show(&answer);
    assert_eq!(OllamaModel::from_api(&local("gemma3:27b", 1), &show), None);
}

#[test]
fn parameter_sizes_read_as_ollama_writes_them() {
    assert_eq!(parse_parameter_size("8.0B"), Some(8.0));
    assert_eq!(parse_parameter_size("137M"), Some(0.137));
    assert_eq!(parse_parameter_size("large"), None);
    assert_eq!(billions(20_914_757_184), 20.9);
    assert_eq!(billions(136_727_040), 0.137);
}
