//! The bounds a spec is loaded within: which files it may import, how large
//! and how deep it may be, and how much memory and time evaluating it may take.
//!
//! The command line sets them once per process ([`install`]); library callers
//! pass their own to [`super::load_with`].

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Default of `--max-eval-memory`: 2 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
/// Default of `--max-eval-time`: 60 s.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(60);
/// Deepest nesting of records, arrays and expressions accepted in a source.
pub const MAX_DEPTH: usize = 128;
/// Largest spec or imported file read, in bytes.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;
/// Most files one spec may import, directly or not.
pub const MAX_IMPORTS: usize = 1000;

/// Bounds for loading one spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes evaluation may allocate (beyond what it frees).
    pub max_memory: u64,
    /// Longest evaluation (all of loading one spec).
    pub max_time: Duration,
    /// Directories besides the spec's own tree that imports may read.
    pub allow_import: Vec<PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory: DEFAULT_MAX_MEMORY,
            max_time: DEFAULT_MAX_TIME,
            allow_import: Vec::new(),
        }
    }
}

static INSTALLED: OnceLock<Limits> = OnceLock::new();

/// Sets the limits [`super::load`] uses in this process (first call wins).
pub fn install(limits: Limits) {
    let _ = INSTALLED.set(limits);
}

/// The limits [`install`]ed, or the defaults.
pub fn current() -> Limits {
    INSTALLED.get().cloned().unwrap_or_default()
}

/// Parses a size such as `2GiB`, `512MiB`, `64M` or `1000000` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. `2GiB`, `512MiB`"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}`; use KiB, MiB or GiB"
            ));
        }
    };
    number
        .checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a usable size"))
}

/// Parses a duration such as `60s`, `2m` or `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. `60s`, `2m`"))
        .and_then(|d| {
            if d.is_zero() {
                Err("the evaluation time limit must be above zero".into())
            } else {
                Ok(d)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_with_binary_units() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("2 parsecs").unwrap_err().contains("unit"));
    }

    #[test]
    fn durations_are_read_in_human_form() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0s").is_err());
    }
}
