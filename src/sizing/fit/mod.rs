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
mod tests;
