//! The model catalog: facts of common Ollama library tags, from
//! `catalog/models.toml` (a data file with a source for every figure).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What a model is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// General conversation.
    Chat,
    /// Programming.
    Code,
    /// Step-by-step reasoning.
    Reasoning,
    /// Text embeddings (cannot chat).
    Embedding,
}

/// Sliding-window attention: most layers keep only the last `window` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlidingWindow {
    /// Tokens a windowed layer keeps.
    pub window: u32,
    /// One layer in this many is global (layer `i` is global when `(i + 1) % global_every == 0`).
    pub global_every: u32,
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogModel {
    /// Canonical tag, `NAME:SIZE`.
    pub tag: String,
    /// Other names for the same weights (e.g. `phi4:latest`).
    pub aliases: Vec<String>,
    /// What it is good for.
    pub kinds: Vec<Kind>,
    /// Parameters, in billions.
    pub parameters_b: f64,
    /// Quantization of the weights, e.g. `Q4_K_M`.
    pub quantization: String,
    /// Size of the download (the weights), in bytes.
    pub download_bytes: u64,
    /// GGUF architecture, e.g. `llama`.
    pub architecture: String,
    /// Transformer blocks.
    pub layers: u32,
    /// Key/value heads per layer.
    pub kv_heads: u32,
    /// Key length per head.
    pub head_dim: u32,
    /// Context the model was trained for, in tokens.
    pub native_context: u32,
    /// Sliding-window layout, where the architecture has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<SlidingWindow>,
    /// Where each group of figures comes from.
    pub sources: BTreeMap<String, String>,
}

impl CatalogModel {
    /// Whether the model can serve a spec role needing `kind`.
    pub fn is(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The facts the estimator needs.
    pub fn facts(&self) -> super::estimate::ModelFacts {
        super::estimate::ModelFacts {
            weights_bytes: self.download_bytes,
            layers: self.layers,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim,
            native_context: self.native_context,
            sliding_window: self.sliding_window,
        }
    }
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Every entry.
    pub model: Vec<CatalogModel>,
}

/// The catalog's text, embedded at build time.
pub const BUNDLED: &str = include_str!("../../catalog/models.toml");

impl Catalog {
    /// The catalog shipped in the binary.
    pub fn bundled() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            // The file is part of the build and covered by tests; a parse
            // failure is a bug in the release, not a user error.
            toml::from_str(BUNDLED).expect("catalog/models.toml is valid")
        })
    }

    /// The entry for an Ollama model name (`tag`, `tag:latest` or an alias).
    pub fn find(&self, name: &str) -> Option<&CatalogModel> {
        let wanted = canonical(name);
        self.model.iter().find(|m| {
            canonical(&m.tag) == wanted || m.aliases.iter().any(|a| canonical(a) == wanted)
        })
    }

    /// Every tag and alias, for "did you mean" hints.
    pub fn names(&self) -> Vec<String> {
        self.model
            .iter()
            .flat_map(|m| std::iter::once(m.tag.clone()).chain(m.aliases.iter().cloned()))
            .collect()
    }
}

/// `name` with the `:latest` tag Ollama implies when none is given.
pub fn canonical(name: &str) -> String {
    let name = name.trim();
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}
