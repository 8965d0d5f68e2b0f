//! The fit rules: does each model fit its host, do the models that can be
//! loaded at once fit together, and what would fit instead.
//!
//! Two entry points, both pure:
//!
//! - [`assess`] sizes every model from the bundled catalog, or from the
//!   spec's `size_gb` for a model the catalog lacks (`privai check`,
//!   `privai models --offline`);
//! - [`assess_with`] does the same, except that a model the running Ollama
//!   has is sized from what Ollama reported about it ([`Exact`]: its
//!   `/api/show` architecture and its `/api/tags` download size). Those
//!   facts replace the catalog's and the stated size; every other model
//!   keeps them. The caller asks Ollama (I/O) and passes what it learnt;
//!   `privai models` does, and a planner that has observed Ollama can too.
//!
//! Each [`ModelFit`] says where its facts come from ([`FactsSource`]).

use super::budget::{Budget, host_budget};
use super::catalog::{Catalog, CatalogModel, Kind};
use super::estimate::{Estimate, ModelFacts, RunSettings, estimate, longest_context};
use crate::model::{KvCacheType, Model, ModelRole, Role, Spec};
use crate::observe::ollama::LocalModel;
use serde::Serialize;
use std::collections::BTreeMap;

/// Below this share of the budget left free, a fit is tight.
pub const TIGHT_HEADROOM: f64 = 0.10;
/// Alternatives offered for a model that does not fit.
pub const ALTERNATIVES: usize = 3;

/// How one model fares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fits with at least 10 % of the budget to spare.
    Fits,
    /// Fits, with less than 10 % to spare.
    Tight,
    /// Needs more than the budget.
    TooBig,
    /// Not in the catalog and no size given: cannot be sized.
    Unknown,
}

/// Where a model's facts come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FactsSource {
    /// The catalog entry with this tag.
    Catalog {
        /// Canonical tag.
        tag: String,
    },
    /// The running Ollama's own facts about its local model: `/api/show`
    /// for the architecture, `/api/tags` for the size of the weights.
    Ollama {
        /// The model as Ollama lists it, e.g. `llama3.2:3b`.
        name: String,
        /// Its manifest digest, `sha256:<hex>` (what `privai.lock` pins).
        digest: String,
        /// Its GGUF architecture, e.g. `llama`.
        architecture: String,
    },
    /// The spec's `size_gb`: weights only, KV cache unknown.
    StatedSize,
    /// Nothing known.
    None,
}

impl FactsSource {
    /// Whether the facts include the architecture, so that the KV cache is
    /// counted (not so for a stated size).
    pub fn knows_kv_cache(&self) -> bool {
        matches!(self, Self::Catalog { .. } | Self::Ollama { .. })
    }
}

/// What a running Ollama reported about one of its local models, reduced to
/// what sizing needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OllamaModel {
    /// Its name as Ollama lists it (`/api/tags` `name`), e.g. `llama3.2:3b`.
    pub name: String,
    /// Its manifest digest, `sha256:<hex>`.
    pub digest: String,
    /// `general.architecture`.
    pub architecture: String,
    /// Parameters, billions: `details.parameter_size` (e.g. `8.0B`), else
    /// `general.parameter_count`.
    pub parameters_b: Option<f64>,
    /// `details.quantization_level`, e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// An embedding model (`<arch>.pooling_type` set): Ollama runs it with
    /// a single slot.
    pub embedding: bool,
    /// The facts the estimate takes: weights from `/api/tags` `size`, the
    /// rest from `/api/show`.
    pub facts: ModelFacts,
}

impl OllamaModel {
    /// From a model's `/api/tags` entry and its `/api/show` facts; `None`
    /// when `/api/show` lacks a fact the estimate needs (layers, KV heads,
    /// head dimension or context length), in which case the model is better
    /// sized from the catalog.
    pub fn from_api(local: &LocalModel, show: &crate::observe::ollama::ModelFacts) -> Option<Self> {
        Some(Self {
            name: local.name.clone(),
            digest: local.manifest_digest(),
            architecture: show.architecture.clone(),
            parameters_b: show
                .parameter_size
                .as_deref()
                .and_then(parse_parameter_size)
                .or_else(|| show.parameter_count.map(billions)),
            quantization: show.quantization.clone(),
            embedding: show.embedding,
            facts: show.estimate_facts(local.size)?,
        })
    }
}

/// `8.0B` → 8.0, `137M` → 0.137 (Ollama's `details.parameter_size`).
fn parse_parameter_size(size: &str) -> Option<f64> {
    let size = size.trim();
    let (number, scale) = match size.char_indices().last()? {
        (i, 'B' | 'b') => (&size[..i], 1.0),
        (i, 'M' | 'm') => (&size[..i], 1e-3),
        (i, 'K' | 'k') => (&size[..i], 1e-6),
        (i, 'T' | 't') => (&size[..i], 1e3),
        _ => return None,
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}

/// `parameter_count` in billions, to one decimal (three below a billion).
fn billions(count: u64) -> f64 {
    let b = count as f64 / 1e9;
    let scale = if b < 1.0 { 1000.0 } else { 10.0 };
    (b * scale).round() / scale
}

/// Exact facts of the models a running Ollama has, by name. Names are
/// matched as Ollama matches them ([`same_model`](crate::model::model_name::same_model)): normalised
/// (`llama3.2` is `llama3.2:latest`, the default registry and namespace
/// dropped), case ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exact {
    models: BTreeMap<String, OllamaModel>,
}

impl Exact {
    /// No exact facts: [`assess_with`] then sizes like [`assess`].
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the facts of `model`, under its name.
    pub fn insert(&mut self, model: OllamaModel) {
        self.models.insert(key(&model.name), model);
    }

    /// The facts of the model `name` names, if Ollama reported it.
    pub fn get(&self, name: &str) -> Option<&OllamaModel> {
        self.models.get(&key(name))
    }

    /// How many models have exact facts.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether no model has exact facts.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

impl FromIterator<OllamaModel> for Exact {
    fn from_iter<I: IntoIterator<Item = OllamaModel>>(models: I) -> Self {
        let mut exact = Self::none();
        for model in models {
            exact.insert(model);
        }
        exact
    }
}

/// `name` as [`Exact`] files it: as [`same_model`](crate::model::model_name::same_model) compares names.
fn key(name: &str) -> String {
    crate::model::model_name::normalize(name)
        .unwrap_or_else(|_| name.trim().to_owned())
        .to_ascii_lowercase()
}

/// A catalog model offered instead of one that does not fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// Canonical tag.
    pub tag: String,
    /// Parameters, billions.
    pub parameters_b: f64,
    /// Memory it needs with the same settings, bytes.
    pub total: u64,
}

/// The fit of one model of `ollama.models`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFit {
    /// Index in `ollama.models`.
    pub index: usize,
    /// The name as the spec writes it.
    pub name: String,
    /// Its role.
    pub role: ModelRole,
    /// Where its facts come from.
    pub source: FactsSource,
    /// Parameters, billions, when known.
    pub parameters_b: Option<f64>,
    /// Quantization, when known.
    pub quantization: Option<String>,
    /// Download size, bytes, when known.
    pub download_bytes: Option<u64>,
    /// Requested context per slot.
    pub requested_context: u32,
    /// The memory it needs, when it can be sized.
    pub estimate: Option<Estimate>,
    /// Budget left after it, bytes (negative: missing).
    pub headroom: Option<i64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Catalog models of the same kind that fit, largest first (for `TooBig`).
    pub alternatives: Vec<Alternative>,
    /// Setting changes that would make this model fit (for `TooBig`).
    pub fixes: Vec<String>,
}

/// Models that may be in memory at the same time, and do not fit together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crowding {
    /// Why they may be loaded together.
    pub reason: CrowdingReason,
    /// Indices in `ollama.models`.
    pub models: Vec<usize>,
    /// Their memory together, bytes.
    pub total: u64,
}

/// Why several models may be in memory at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrowdingReason {
    /// `max_loaded_models` > 1 and models stay loaded (`keep_alive` not 0).
    MaxLoaded,
    /// They are all marked `keep_warm`.
    KeepWarm,
}

/// The fit of every model on the host that runs Ollama.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostFit {
    /// The host's budget.
    pub budget: Budget,
    /// Each model.
    pub models: Vec<ModelFit>,
    /// Sets of models that do not fit together.
    pub crowding: Vec<Crowding>,
}

/// The catalog kind a spec role needs.
pub fn kind_for(role: ModelRole) -> Option<Kind> {
    match role {
        ModelRole::Embedding => Some(Kind::Embedding),
        ModelRole::Code => Some(Kind::Code),
        ModelRole::Primary | ModelRole::Fallback => Some(Kind::Chat),
        ModelRole::Extra => None,
    }
}

fn serves(model: &CatalogModel, role: ModelRole) -> bool {
    match kind_for(role) {
        Some(kind) => model.is(kind),
        None => !model.is(Kind::Embedding),
    }
}

/// The size class in a tag, e.g. `70B` for `llama3.3:70b`, if it has one.
pub fn size_class(tag: &str) -> Option<String> {
    let size = tag.rsplit(':').next()?;
    let number = size.strip_suffix('b')?;
    number
        .parse::<f64>()
        .ok()
        .map(|_| format!("{}B", number.to_uppercase()))
}

/// The settings the model runs with under `spec`.
pub fn run_settings(spec: &Spec, model: &Model, catalog: Option<&CatalogModel>) -> RunSettings {
    settings(spec, model, catalog.is_some_and(|c| c.is(Kind::Embedding)))
}

/// The settings the model runs with under `spec`; `embedding` when its facts
/// say it is an embedding model.
fn settings(spec: &Spec, model: &Model, embedding: bool) -> RunSettings {
    let embedding = embedding || model.role == ModelRole::Embedding;
    RunSettings {
        context: model.context_length.unwrap_or(spec.ollama.context_length),
        // Ollama runs embedding models with a single slot.
        parallel: if embedding {
            1
        } else {
            spec.ollama.num_parallel
        },
        kv_cache: spec.ollama.kv_cache_type,
    }
}

/// The fit of the spec's models on the host that runs Ollama, if one does,
/// from the catalog's facts (or `size_gb`): [`assess_with`] without exact
/// facts.
pub fn assess(spec: &Spec, catalog: &Catalog) -> Option<HostFit> {
    assess_with(spec, catalog, &Exact::none())
}

/// The fit of the spec's models on the host that runs Ollama, if one does.
///
/// A model `exact` has facts for (what the running Ollama reported: see
/// [`OllamaModel::from_api`]) is sized from them, with
/// [`FactsSource::Ollama`]; they replace the catalog's facts and the spec's
/// `size_gb`. Every other model is sized as [`assess`] sizes it. Pure: the
/// caller asks Ollama. Alternatives offered for a model that does not fit
/// still come from the catalog.
pub fn assess_with(spec: &Spec, catalog: &Catalog, exact: &Exact) -> Option<HostFit> {
    let host = spec.service_host(Role::Ollama)?;
    let budget = host_budget(spec, host);
    let models: Vec<ModelFit> = spec
        .ollama
        .models
        .iter()
        .enumerate()
        .map(|(index, model)| model_fit(spec, catalog, exact, &budget, index, model))
        .collect();
    let crowding = crowding(spec, &budget, &models);
    Some(HostFit {
        budget,
        models,
        crowding,
    })
}

fn model_fit(
    spec: &Spec,
    catalog: &Catalog,
    exact: &Exact,
    budget: &Budget,
    index: usize,
    model: &Model,
) -> ModelFit {
    let entry = catalog.find(&model.name);
    let reported = exact.get(&model.name);
    let settings = settings(
        spec,
        model,
        match reported {
            Some(reported) => reported.embedding,
            None => entry.is_some_and(|c| c.is(Kind::Embedding)),
        },
    );
    let stated_bytes = model.size_gb.map(|gb| (gb * 1e9) as u64);
    let known = match (reported, entry, stated_bytes) {
        (Some(reported), _, _) => Known {
            source: FactsSource::Ollama {
                name: reported.name.clone(),
                digest: reported.digest.clone(),
                architecture: reported.architecture.clone(),
            },
            facts: Some(reported.facts),
            parameters_b: reported.parameters_b,
            quantization: reported.quantization.clone(),
            download_bytes: Some(reported.facts.weights_bytes),
        },
        (None, Some(entry), _) => Known {
            source: FactsSource::Catalog {
                tag: entry.tag.clone(),
            },
            facts: Some(entry.facts()),
            parameters_b: Some(entry.parameters_b),
            quantization: Some(entry.quantization.clone()),
            download_bytes: Some(entry.download_bytes),
        },
        (None, None, Some(bytes)) => Known {
            source: FactsSource::StatedSize,
            // Weights only: without the architecture the KV cache is unknown.
            facts: Some(ModelFacts {
                weights_bytes: bytes,
                layers: 0,
                kv_heads: 0,
                head_dim: 0,
                native_context: u32::MAX,
                sliding_window: None,
            }),
            parameters_b: None,
            quantization: None,
            download_bytes: Some(bytes),
        },
        (None, None, None) => Known {
            source: FactsSource::None,
            facts: None,
            parameters_b: None,
            quantization: None,
            download_bytes: None,
        },
    };
    let estimate = known.facts.as_ref().map(|f| estimate(f, &settings));
    let headroom = estimate.map(|e| budget.available as i64 - e.total as i64);
    let verdict = match headroom {
        None => Verdict::Unknown,
        Some(h) if h < 0 => Verdict::TooBig,
        Some(h) if (h as f64) < TIGHT_HEADROOM * budget.available as f64 => Verdict::Tight,
        Some(_) => Verdict::Fits,
    };
    let (alternatives, fixes) = match (verdict, known.facts) {
        (Verdict::TooBig, Some(facts)) => (
            alternatives(
                catalog,
                model.role,
                &settings,
                facts.native_context,
                budget.available,
            ),
            fixes(
                &facts,
                &settings,
                budget.available,
                known.source.knows_kv_cache(),
            ),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    ModelFit {
        index,
        name: model.name.clone(),
        role: model.role,
        source: known.source,
        parameters_b: known.parameters_b,
        quantization: known.quantization,
        download_bytes: known.download_bytes,
        requested_context: settings.context,
        estimate,
        headroom,
        verdict,
        alternatives,
        fixes,
    }
}

/// What is known about one model, and from where.
struct Known {
    source: FactsSource,
    facts: Option<ModelFacts>,
    parameters_b: Option<f64>,
    quantization: Option<String>,
    download_bytes: Option<u64>,
}

/// The largest catalog models serving `role` that fit `available` with
/// `settings` and offer the whole requested context (or `max_context`, the
/// most the replaced model had).
pub fn alternatives(
    catalog: &Catalog,
    role: ModelRole,
    settings: &RunSettings,
    max_context: u32,
    available: u64,
) -> Vec<Alternative> {
    let wanted_context = settings.context.min(max_context);
    let mut fitting: Vec<Alternative> = catalog
        .model
        .iter()
        .filter(|m| serves(m, role) && m.native_context >= wanted_context)
        .filter_map(|m| {
            let total = estimate(&m.facts(), settings).total;
            (total <= available).then(|| Alternative {
                tag: m.tag.clone(),
                parameters_b: m.parameters_b,
                total,
            })
        })
        .collect();
    fitting.sort_by(|a, b| {
        b.parameters_b
            .total_cmp(&a.parameters_b)
            .then(a.tag.cmp(&b.tag))
    });
    fitting.truncate(ALTERNATIVES);
    fitting
}

/// Changes of settings under which the model fits, if its weights do.
fn fixes(
    facts: &ModelFacts,
    settings: &RunSettings,
    available: u64,
    kv_known: bool,
) -> Vec<String> {
    let mut found = Vec::new();
    if !kv_known {
        return found;
    }
    if settings.kv_cache == KvCacheType::F16 {
        let q8 = RunSettings {
            kv_cache: KvCacheType::Q8_0,
            ..*settings
        };
        if estimate(facts, &q8).total <= available {
            found.push("`ollama.kv_cache_type = 'q8_0` (halves the KV cache)".to_owned());
        }
    }
    if settings.parallel > 1 {
        let single = RunSettings {
            parallel: 1,
            ..*settings
        };
        if estimate(facts, &single).total <= available {
            found.push("`ollama.num_parallel = 1`".to_owned());
        }
    }
    if let Some(context) = longest_context(facts, settings, available)
        && context < settings.context
    {
        found.push(format!(
            "a context of at most {context} tokens (`context_length`)"
        ));
    }
    found
}

/// Sets of models that may be loaded together but do not fit together.
fn crowding(spec: &Spec, budget: &Budget, models: &[ModelFit]) -> Vec<Crowding> {
    // A model too big on its own is reported as such; sets are about models
    // that fit one at a time.
    let sized: Vec<(usize, u64)> = models
        .iter()
        .filter(|m| m.verdict != Verdict::TooBig)
        .filter_map(|m| m.estimate.map(|e| (m.index, e.total)))
        .collect();
    let mut found = Vec::new();
    let stays_loaded = spec.ollama.keep_alive != "0";
    let at_once = spec.ollama.max_loaded_models as usize;
    if stays_loaded && at_once > 1 && sized.len() > 1 {
        let mut largest = sized.clone();
        largest.sort_by_key(|&(_, total)| std::cmp::Reverse(total));
        largest.truncate(at_once);
        push_if_crowded(&mut found, CrowdingReason::MaxLoaded, largest, budget);
    }
    let warm: Vec<(usize, u64)> = sized
        .iter()
        .copied()
        .filter(|(i, _)| spec.ollama.models[*i].keep_warm)
        .collect();
    if warm.len() > 1 {
        push_if_crowded(&mut found, CrowdingReason::KeepWarm, warm, budget);
    }
    found
}

fn push_if_crowded(
    found: &mut Vec<Crowding>,
    reason: CrowdingReason,
    set: Vec<(usize, u64)>,
    budget: &Budget,
) {
    let total: u64 = set.iter().map(|(_, t)| t).sum();
    if total > budget.available {
        let mut models: Vec<usize> = set.into_iter().map(|(i, _)| i).collect();
        models.sort_unstable();
        found.push(Crowding {
            reason,
            models,
            total,
        });
    }
}

#[cfg(test)]
mod tests {
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
}
