//! What Ollama holds, as its API lists it: local models (`/api/tags`),
//! loaded ones (`/api/ps`) and the facts `/api/show` tells about a model.

use crate::model::model_name::canonical_digest;
use serde::Deserialize;
use serde_json::Value;

/// A model Ollama has locally, from `GET /api/tags`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LocalModel {
    /// Its name, shortest form (`llama3.2:latest`).
    pub name: String,
    /// The same name, as the `model` field reports it.
    #[serde(default)]
    pub model: String,
    /// sha256 of its manifest, as `/api/tags` reports it (64 hex, no prefix).
    pub digest: String,
    /// Bytes of all its blobs: the download size.
    pub size: u64,
}

impl LocalModel {
    /// [`canonical_digest`] of its manifest digest: what `privai.lock` records.
    pub fn manifest_digest(&self) -> String {
        canonical_digest(&self.digest)
    }
}

/// A model loaded in memory, from `GET /api/ps`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RunningModel {
    /// Its name (`llama3.2:3b`).
    pub name: String,
    /// Bytes it takes in memory.
    #[serde(default)]
    pub size: u64,
    /// Of which in GPU memory.
    #[serde(default)]
    pub size_vram: u64,
    /// When Ollama unloads it (RFC 3339).
    #[serde(default)]
    pub expires_at: String,
}

/// What `POST /api/show` tells about a model that sizing needs, read from
/// its GGUF metadata (`model_info`, keys prefixed by the architecture) and
/// `details`. A fact the model does not state is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFacts {
    /// `general.architecture`, e.g. `llama`, `qwen2`, `gemma3`.
    pub architecture: String,
    /// `general.parameter_count`.
    pub parameter_count: Option<u64>,
    /// `details.parameter_size`, e.g. `32.8B`.
    pub parameter_size: Option<String>,
    /// `details.quantization_level`, e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// `<arch>.block_count`: transformer layers.
    pub block_count: Option<u32>,
    /// `<arch>.attention.head_count` (the largest, if given per layer).
    pub head_count: Option<u32>,
    /// `<arch>.attention.head_count_kv`; when given per layer, the largest,
    /// which never underestimates the KV cache.
    pub head_count_kv: Option<u32>,
    /// `<arch>.attention.key_length`: the true head dimension, when set.
    pub key_length: Option<u32>,
    /// `<arch>.attention.value_length`.
    pub value_length: Option<u32>,
    /// `<arch>.embedding_length`.
    pub embedding_length: Option<u32>,
    /// `<arch>.context_length`: the trained context.
    pub context_length: Option<u32>,
    /// `<arch>.attention.sliding_window`, for models with windowed layers.
    pub sliding_window: Option<u32>,
    /// `<arch>.expert_count`, for mixture-of-experts models.
    pub expert_count: Option<u32>,
    /// Whether `<arch>.pooling_type` is set: an embedding model.
    pub embedding: bool,
}

impl ModelFacts {
    /// Reads the facts from a `/api/show` answer.
    pub fn from_show(show: &Value) -> Self {
        let info = show.get("model_info").unwrap_or(&Value::Null);
        let details = show.get("details").unwrap_or(&Value::Null);
        let architecture = info
            .get("general.architecture")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = |suffix: &str| info.get(format!("{architecture}.{suffix}"));
        let number = |suffix: &str| key(suffix).and_then(max_u32);
        let text = |field: &str| {
            details
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            parameter_count: info.get("general.parameter_count").and_then(Value::as_u64),
            parameter_size: text("parameter_size"),
            quantization: text("quantization_level"),
            block_count: number("block_count"),
            head_count: number("attention.head_count"),
            head_count_kv: number("attention.head_count_kv"),
            key_length: number("attention.key_length"),
            value_length: number("attention.value_length"),
            embedding_length: number("embedding_length"),
            context_length: number("context_length"),
            sliding_window: number("attention.sliding_window"),
            expert_count: number("expert_count"),
            embedding: key("pooling_type").is_some(),
            architecture,
        }
    }

    /// The head dimension the KV cache uses: `key_length`, else
    /// `embedding_length / head_count`.
    pub fn head_dim(&self) -> Option<u32> {
        self.key_length.or_else(|| {
            let heads = self.head_count.filter(|&h| h > 0)?;
            Some(self.embedding_length? / heads)
        })
    }

    /// One layer in how many is global (full context) for a model with a
    /// sliding window, by architecture: Gemma 3 has one global layer in six,
    /// Gemma 2 and gpt-oss alternate. `None` for other architectures, which
    /// are then sized as if every layer were global (never an underestimate).
    pub fn global_every(&self) -> Option<u32> {
        match self.architecture.as_str() {
            "gemma3" => Some(6),
            "gemma2" | "gptoss" | "gpt-oss" => Some(2),
            _ => None,
        }
    }

    /// The facts the memory estimate takes, given the model's download size
    /// (`/api/tags` `size`), or `None` if a fact it needs is missing.
    pub fn estimate_facts(
        &self,
        weights_bytes: u64,
    ) -> Option<crate::sizing::estimate::ModelFacts> {
        let sliding_window = match (self.sliding_window, self.global_every()) {
            (Some(window), Some(global_every)) => Some(crate::sizing::catalog::SlidingWindow {
                window,
                global_every,
            }),
            _ => None,
        };
        Some(crate::sizing::estimate::ModelFacts {
            weights_bytes,
            layers: self.block_count?,
            kv_heads: self.head_count_kv?,
            head_dim: self.head_dim()?,
            native_context: self.context_length?,
            sliding_window,
        })
    }
}

/// A number, or the largest of an array of numbers (per-layer values).
fn max_u32(value: &Value) -> Option<u32> {
    match value {
        Value::Array(items) => items.iter().filter_map(max_u32).max(),
        other => other.as_u64().and_then(|n| u32::try_from(n).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn show_facts_come_from_the_architecture_keys() {
        let show = json!({
            "details": {"parameter_size": "32.8B", "quantization_level": "Q4_K_M"},
            "model_info": {
                "general.architecture": "qwen3",
                "general.parameter_count": 32_762_123_264_u64,
                "qwen3.block_count": 64,
                "qwen3.attention.head_count": 64,
                "qwen3.attention.head_count_kv": 8,
                "qwen3.attention.key_length": 128,
                "qwen3.attention.value_length": 128,
                "qwen3.embedding_length": 5120,
                "qwen3.context_length": 40960,
                "llama.block_count": 1
            }
        });
        let facts = ModelFacts::from_show(&show);
        assert_eq!(
            facts,
            ModelFacts {
                architecture: "qwen3".into(),
                parameter_count: Some(32_762_123_264),
                parameter_size: Some("32.8B".into()),
                quantization: Some("Q4_K_M".into()),
                block_count: Some(64),
                head_count: Some(64),
                head_count_kv: Some(8),
                key_length: Some(128),
                value_length: Some(128),
                embedding_length: Some(5120),
                context_length: Some(40960),
                sliding_window: None,
                expert_count: None,
                embedding: false,
            }
        );
        // key_length, not 5120 / 64 = 80 (Ollama's own underestimate).
        assert_eq!(facts.head_dim(), Some(128));
        let estimate = facts.estimate_facts(20_000_000_000).unwrap();
        assert_eq!(
            (estimate.layers, estimate.kv_heads, estimate.head_dim),
            (64, 8, 128)
        );
        assert_eq!(estimate.native_context, 40960);
        assert_eq!(estimate.sliding_window, None);
    }

    #[test]
    fn head_dim_falls_back_to_embedding_over_heads() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "llama",
            "llama.attention.head_count": 32,
            "llama.embedding_length": 4096
        }}));
        assert_eq!(facts.head_dim(), Some(128));
        assert_eq!(facts.estimate_facts(1), None, "block_count is missing");
    }

    #[test]
    fn per_layer_kv_heads_count_their_largest_and_windows_their_pattern() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "gemma3",
            "gemma3.block_count": 62,
            "gemma3.attention.head_count": [32, 32],
            "gemma3.attention.head_count_kv": [16, 8, 16],
            "gemma3.attention.key_length": 128,
            "gemma3.context_length": 131072,
            "gemma3.attention.sliding_window": 1024
        }}));
        assert_eq!(facts.head_count_kv, Some(16));
        let sw = facts.estimate_facts(1).unwrap().sliding_window.unwrap();
        assert_eq!((sw.window, sw.global_every), (1024, 6));
    }

    #[test]
    fn an_embedding_model_is_told_by_its_pooling_type() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "nomic-bert",
            "nomic-bert.pooling_type": 1
        }}));
        assert!(facts.embedding);
    }
}
