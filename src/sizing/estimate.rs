//! How much memory one model needs: weights + KV cache + compute and runtime.
//!
//! The KV cache follows Ollama's and llama.cpp's layout: every layer stores a
//! key and a value vector per KV head for each token of context, for each
//! parallel slot; sliding-window layers keep only their window (plus one
//! micro-batch). Quantized caches use llama.cpp's block sizes: q8_0 stores 34
//! bytes per 32 elements, q4_0 18 bytes.

use super::GIB;
use super::catalog::SlidingWindow;
use crate::model::KvCacheType;
use serde::Serialize;

/// Tokens of one micro-batch, which sliding-window layers keep beyond their window.
pub const UBATCH: u64 = 512;
/// Compute buffers plus the runtime's minimum (Metal reserves 512 MiB), as
/// one flat figure: the reference's planning value.
pub const COMPUTE_AND_RUNTIME: u64 = GIB as u64;

/// The facts of a model the estimate needs (from the catalog, or from
/// Ollama's `/api/show`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFacts {
    /// Bytes of weights loaded (the download size).
    pub weights_bytes: u64,
    /// Transformer blocks.
    pub layers: u32,
    /// KV heads per layer.
    pub kv_heads: u32,
    /// Key length per head.
    pub head_dim: u32,
    /// Trained context; longer requests are clamped to it.
    pub native_context: u32,
    /// Sliding-window layout, if any.
    pub sliding_window: Option<SlidingWindow>,
}

/// How the model is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSettings {
    /// Requested context, in tokens.
    pub context: u32,
    /// Parallel request slots.
    pub parallel: u32,
    /// KV cache element type.
    pub kv_cache: KvCacheType,
}

/// The memory one model needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Context actually used per slot (clamped to the native context).
    pub context: u32,
    /// Weights, bytes.
    pub weights: u64,
    /// KV cache, bytes.
    pub kv_cache: u64,
    /// Compute buffers and runtime minimum, bytes.
    pub compute: u64,
    /// The sum, bytes.
    pub total: u64,
}

/// Bytes per KV cache element.
pub fn bytes_per_element(kind: KvCacheType) -> f64 {
    match kind {
        KvCacheType::F16 => 2.0,
        KvCacheType::Q8_0 => 34.0 / 32.0,
        KvCacheType::Q4_0 => 18.0 / 32.0,
    }
}

/// KV cache bytes per token of one layer.
fn per_layer_token(facts: &ModelFacts, kind: KvCacheType) -> f64 {
    2.0 * f64::from(facts.kv_heads) * f64::from(facts.head_dim) * bytes_per_element(kind)
}

/// KV cache bytes per token over all layers, ignoring sliding windows.
pub fn kv_per_token(facts: &ModelFacts, kind: KvCacheType) -> u64 {
    (per_layer_token(facts, kind) * f64::from(facts.layers)).round() as u64
}

/// The KV cache for `context` tokens per slot and `parallel` slots.
pub fn kv_cache(facts: &ModelFacts, context: u32, parallel: u32, kind: KvCacheType) -> u64 {
    let total_tokens = u64::from(context.min(facts.native_context)) * u64::from(parallel.max(1));
    let per_layer = per_layer_token(facts, kind);
    let bytes: f64 = (0..facts.layers)
        .map(|i| {
            let tokens = match facts.sliding_window {
                Some(sw) if (i + 1) % sw.global_every.max(1) != 0 => {
                    total_tokens.min(u64::from(sw.window) * u64::from(parallel.max(1)) + UBATCH)
                }
                _ => total_tokens,
            };
            per_layer * tokens as f64
        })
        .sum();
    bytes.round() as u64
}

/// Everything one model needs when run with `settings`.
pub fn estimate(facts: &ModelFacts, settings: &RunSettings) -> Estimate {
    let context = settings.context.min(facts.native_context);
    let kv = kv_cache(
        facts,
        settings.context,
        settings.parallel,
        settings.kv_cache,
    );
    Estimate {
        context,
        weights: facts.weights_bytes,
        kv_cache: kv,
        compute: COMPUTE_AND_RUNTIME,
        total: facts.weights_bytes + kv + COMPUTE_AND_RUNTIME,
    }
}

/// The longest context (a multiple of 1024, at most the native context) for
/// which the model still fits in `available` bytes, if any does.
pub fn longest_context(facts: &ModelFacts, settings: &RunSettings, available: u64) -> Option<u32> {
    let mut best = None;
    let mut context = 1024;
    while context <= facts.native_context {
        let trial = RunSettings {
            context,
            ..*settings
        };
        if estimate(facts, &trial).total <= available {
            best = Some(context);
        } else {
            break;
        }
        context += 1024;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::catalog::Catalog;

    /// One row of the reference table of KV sizes and totals (GiB unless
    /// noted), planned at P = 1 with contexts clamped to the native context.
    struct Row {
        tag: &'static str,
        kv_per_token_kib: f64,
        kv_4k: f64,
        kv_32k_f16: f64,
        kv_32k_q8: f64,
        total_4k: f64,
        total_32k_f16: f64,
        total_32k_q8: f64,
    }

    #[rustfmt::skip]
    const TABLE: &[Row] = &[
        Row { tag: "llama3.3:70b", kv_per_token_kib: 320.0, kv_4k: 1.25, kv_32k_f16: 10.0, kv_32k_q8: 5.3, total_4k: 41.9, total_32k_f16: 50.6, total_32k_q8: 45.9 },
        Row { tag: "llama3.1:8b", kv_per_token_kib: 128.0, kv_4k: 0.5, kv_32k_f16: 4.0, kv_32k_q8: 2.1, total_4k: 6.1, total_32k_f16: 9.6, total_32k_q8: 7.7 },
        Row { tag: "llama3.2:3b", kv_per_token_kib: 112.0, kv_4k: 0.44, kv_32k_f16: 3.5, kv_32k_q8: 1.9, total_4k: 3.3, total_32k_f16: 6.4, total_32k_q8: 4.7 },
        Row { tag: "codellama:7b", kv_per_token_kib: 512.0, kv_4k: 2.0, kv_32k_f16: 8.0, kv_32k_q8: 4.3, total_4k: 6.6, total_32k_f16: 12.6, total_32k_q8: 8.8 },
        Row { tag: "codellama:13b", kv_per_token_kib: 800.0, kv_4k: 3.1, kv_32k_f16: 12.5, kv_32k_q8: 6.6, total_4k: 11.0, total_32k_f16: 20.4, total_32k_q8: 14.5 },
        Row { tag: "codellama:34b", kv_per_token_kib: 192.0, kv_4k: 0.75, kv_32k_f16: 3.0, kv_32k_q8: 1.6, total_4k: 19.5, total_32k_f16: 21.7, total_32k_q8: 20.3 },
        Row { tag: "codellama:70b", kv_per_token_kib: 320.0, kv_4k: 1.25, kv_32k_f16: 5.0, kv_32k_q8: 2.7, total_4k: 37.6, total_32k_f16: 41.4, total_32k_q8: 39.1 },
        Row { tag: "qwen2.5:32b", kv_per_token_kib: 256.0, kv_4k: 1.0, kv_32k_f16: 8.0, kv_32k_q8: 4.25, total_4k: 20.5, total_32k_f16: 27.5, total_32k_q8: 23.7 },
        Row { tag: "qwen2.5-coder:32b", kv_per_token_kib: 256.0, kv_4k: 1.0, kv_32k_f16: 8.0, kv_32k_q8: 4.25, total_4k: 20.5, total_32k_f16: 27.5, total_32k_q8: 23.7 },
        Row { tag: "deepseek-r1:32b", kv_per_token_kib: 256.0, kv_4k: 1.0, kv_32k_f16: 8.0, kv_32k_q8: 4.25, total_4k: 20.5, total_32k_f16: 27.5, total_32k_q8: 23.7 },
        Row { tag: "qwen3:32b", kv_per_token_kib: 256.0, kv_4k: 1.0, kv_32k_f16: 8.0, kv_32k_q8: 4.25, total_4k: 20.6, total_32k_f16: 27.6, total_32k_q8: 23.9 },
        Row { tag: "qwen2.5:14b", kv_per_token_kib: 192.0, kv_4k: 0.75, kv_32k_f16: 6.0, kv_32k_q8: 3.2, total_4k: 10.1, total_32k_f16: 15.4, total_32k_q8: 12.6 },
        Row { tag: "deepseek-r1:14b", kv_per_token_kib: 192.0, kv_4k: 0.75, kv_32k_f16: 6.0, kv_32k_q8: 3.2, total_4k: 10.1, total_32k_f16: 15.4, total_32k_q8: 12.6 },
        Row { tag: "qwen3:30b", kv_per_token_kib: 96.0, kv_4k: 0.38, kv_32k_f16: 3.0, kv_32k_q8: 1.6, total_4k: 18.7, total_32k_f16: 21.3, total_32k_q8: 19.9 },
        Row { tag: "gemma3:27b", kv_per_token_kib: 496.0, kv_4k: 0.92, kv_32k_f16: 3.1, kv_32k_q8: 1.65, total_4k: 18.1, total_32k_f16: 20.3, total_32k_q8: 18.9 },
        Row { tag: "gemma3:12b", kv_per_token_kib: 384.0, kv_4k: 0.72, kv_32k_f16: 2.5, kv_32k_q8: 1.3, total_4k: 9.3, total_32k_f16: 11.1, total_32k_q8: 9.9 },
        Row { tag: "mistral-small:24b", kv_per_token_kib: 160.0, kv_4k: 0.63, kv_32k_f16: 5.0, kv_32k_q8: 2.7, total_4k: 14.7, total_32k_f16: 19.0, total_32k_q8: 16.7 },
        Row { tag: "phi4:14b", kv_per_token_kib: 200.0, kv_4k: 0.78, kv_32k_f16: 3.1, kv_32k_q8: 1.7, total_4k: 10.2, total_32k_f16: 12.6, total_32k_q8: 11.1 },
        Row { tag: "gpt-oss:20b", kv_per_token_kib: 48.0, kv_4k: 0.11, kv_32k_f16: 0.76, kv_32k_q8: 0.41, total_4k: 14.0, total_32k_f16: 14.6, total_32k_q8: 14.3 },
    ];

    fn gib(bytes: u64) -> f64 {
        bytes as f64 / GIB
    }

    fn assert_close(what: &str, ours: f64, reference: f64) {
        let error = (ours - reference).abs() / reference;
        assert!(
            error <= 0.05,
            "{what}: estimated {ours:.3}, reference {reference:.3} ({:.1} % off)",
            error * 100.0
        );
    }

    fn run(context: u32, kv_cache: KvCacheType) -> RunSettings {
        RunSettings {
            context,
            parallel: 1,
            kv_cache,
        }
    }

    #[test]
    fn matches_the_reference_table_within_five_percent() {
        let catalog = Catalog::bundled();
        for row in TABLE {
            let facts = catalog.find(row.tag).expect(row.tag).facts();
            let t = row.tag;
            assert_close(
                &format!("{t} KV/token"),
                kv_per_token(&facts, KvCacheType::F16) as f64 / 1024.0,
                row.kv_per_token_kib,
            );
            assert_close(
                &format!("{t} KV @4k"),
                gib(kv_cache(&facts, 4096, 1, KvCacheType::F16)),
                row.kv_4k,
            );
            assert_close(
                &format!("{t} KV @32k f16"),
                gib(kv_cache(&facts, 32768, 1, KvCacheType::F16)),
                row.kv_32k_f16,
            );
            assert_close(
                &format!("{t} KV @32k q8_0"),
                gib(kv_cache(&facts, 32768, 1, KvCacheType::Q8_0)),
                row.kv_32k_q8,
            );
            assert_close(
                &format!("{t} total @4k"),
                gib(estimate(&facts, &run(4096, KvCacheType::F16)).total),
                row.total_4k,
            );
            assert_close(
                &format!("{t} total @32k f16"),
                gib(estimate(&facts, &run(32768, KvCacheType::F16)).total),
                row.total_32k_f16,
            );
            assert_close(
                &format!("{t} total @32k q8_0"),
                gib(estimate(&facts, &run(32768, KvCacheType::Q8_0)).total),
                row.total_32k_q8,
            );
        }
    }

    #[test]
    fn gemma3_sliding_window_layers_keep_only_their_window() {
        let facts = Catalog::bundled().find("gemma3:27b").unwrap().facts();
        let naive = kv_per_token(&facts, KvCacheType::F16) * 32768;
        let windowed = kv_cache(&facts, 32768, 1, KvCacheType::F16);
        // 10 global layers hold 32k tokens, 52 windowed ones 1024 + 512.
        assert_eq!(windowed, 10 * 8192 * 32768 + 52 * 8192 * 1536);
        assert!(gib(naive) > 15.0 && gib(windowed) < 3.2);
    }

    #[test]
    fn parallel_slots_multiply_the_kv_cache() {
        let facts = Catalog::bundled().find("llama3.1:8b").unwrap().facts();
        let one = kv_cache(&facts, 8192, 1, KvCacheType::F16);
        assert_eq!(kv_cache(&facts, 8192, 4, KvCacheType::F16), 4 * one);
    }

    #[test]
    fn context_is_clamped_to_the_native_window() {
        let facts = Catalog::bundled().find("codellama:7b").unwrap().facts();
        let e = estimate(&facts, &run(131072, KvCacheType::F16));
        assert_eq!(e.context, 16384);
        assert_eq!(e.kv_cache, kv_cache(&facts, 16384, 1, KvCacheType::F16));
    }

    #[test]
    fn the_longest_fitting_context_fits_and_one_step_more_does_not() {
        let facts = Catalog::bundled().find("qwen2.5:32b").unwrap().facts();
        let settings = run(32768, KvCacheType::F16);
        let available = (22.0 * GIB) as u64;
        let best = longest_context(&facts, &settings, available).unwrap();
        assert!(estimate(&facts, &run(best, KvCacheType::F16)).total <= available);
        assert!(estimate(&facts, &run(best + 1024, KvCacheType::F16)).total > available);
    }
}
