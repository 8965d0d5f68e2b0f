//! Ollama model names as typed values: [`ModelName`] splits a name as
//! Ollama does, [`normalize`] and [`same_model`] compare names as Ollama
//! matches them, [`canonical_digest`] writes a digest in one form.

use std::fmt;

/// A model name breaks Ollama's naming rules ([`ModelName::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` is not an Ollama model name: {reason}; write it as `model:tag` or `namespace/model:tag`, e.g. `llama3.2:3b`"
)]
pub struct NameError {
    /// The name as given.
    pub name: String,
    /// The rule it breaks.
    pub reason: String,
}

/// Ollama's default registry host.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// Ollama's default namespace.
pub const DEFAULT_NAMESPACE: &str = "library";
/// Ollama's default tag.
pub const DEFAULT_TAG: &str = "latest";

/// A model name split as Ollama splits it:
/// `[scheme://][host/][namespace/]model[:tag]`, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName {
    /// Registry host, possibly with `:port` (the scheme is dropped).
    pub host: String,
    /// Namespace.
    pub namespace: String,
    /// Model.
    pub model: String,
    /// Tag.
    pub tag: String,
}

impl ModelName {
    /// Parses `name` as Ollama's `ParseName` does (`types/model/name.go`):
    /// the tag is split off at the last `:` if it comes after the last `/`;
    /// then model, namespace and host are cut from the right on `/`. Missing
    /// parts get the defaults ([`DEFAULT_HOST`], [`DEFAULT_NAMESPACE`],
    /// [`DEFAULT_TAG`]). Each part must follow Ollama's rules: host 1–350
    /// characters, namespace 1–80 of `[A-Za-z0-9_-]`, model and tag 1–80 of
    /// `[A-Za-z0-9_.-]`, none starting with `-` or `.`. A digest (`@sha256:…`)
    /// is refused: privai pins digests in `privai.lock`, not in names.
    pub fn parse(name: &str) -> Result<Self, NameError> {
        let invalid = |reason: &str| NameError {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if name.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.contains('@') {
            return Err(invalid(
                "it names a digest; privai pins digests in `privai.lock`, so name the tag only",
            ));
        }
        let mut rest = name;
        let mut tag = None;
        if let Some(colon) = rest.rfind(':')
            && rest.rfind('/').is_none_or(|slash| colon > slash)
        {
            tag = Some(&rest[colon + 1..]);
            rest = &rest[..colon];
        }
        let (rest, model) = match rest.rsplit_once('/') {
            Some((rest, model)) => (Some(rest), model),
            None => (None, rest),
        };
        let (host, namespace) = match rest {
            None => (None, None),
            Some(rest) => match rest.rsplit_once('/') {
                None => (None, Some(rest)),
                Some((host, namespace)) => {
                    let host = host.split_once("://").map_or(host, |(_, host)| host);
                    (Some(host), Some(namespace))
                }
            },
        };
        let check = |part: &str, what: &str, max: usize, extra: &[char]| -> Result<(), NameError> {
            let first_ok = part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let rest_ok = part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c));
            if part.is_empty() {
                Err(invalid(&format!("its {what} is empty")))
            } else if part.len() > max {
                Err(invalid(&format!(
                    "its {what} is longer than {max} characters"
                )))
            } else if !first_ok || !rest_ok {
                Err(invalid(&format!(
                    "its {what} `{part}` may only hold letters, digits, `_`, `-`{} and must start with a letter, digit or `_`",
                    if extra.is_empty() { "" } else { " and `.`" }
                )))
            } else {
                Ok(())
            }
        };
        check(model, "model", 80, &['.'])?;
        if let Some(tag) = tag {
            check(tag, "tag", 80, &['.'])?;
        }
        if let Some(namespace) = namespace {
            check(namespace, "namespace", 80, &[])?;
        }
        if let Some(host) = host {
            check(host, "host", 350, &['.', ':'])?;
        }
        Ok(Self {
            host: host.unwrap_or(DEFAULT_HOST).to_owned(),
            namespace: namespace.unwrap_or(DEFAULT_NAMESPACE).to_owned(),
            model: model.to_owned(),
            tag: tag.unwrap_or(DEFAULT_TAG).to_owned(),
        })
    }

    /// Whether the model comes from Ollama's own registry.
    pub fn is_default_host(&self) -> bool {
        self.host.eq_ignore_ascii_case(DEFAULT_HOST)
    }
}

/// Ollama's `DisplayShortest`: the default host and namespace are left out,
/// the tag never is (`llama3.2:latest`, `myns/m:1b`, `host:5000/ns/m:1b`).
impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_default_host() {
            write!(f, "{}/{}/", self.host, self.namespace)?;
        } else if !self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{}:{}", self.model, self.tag)
    }
}

/// `name` as Ollama lists it: parsed by [`ModelName::parse`] and displayed
/// shortest, e.g. `llama3.2` → `llama3.2:latest`,
/// `registry.ollama.ai/library/qwen2.5:32b` → `qwen2.5:32b`. Case is kept.
pub fn normalize(name: &str) -> Result<String, NameError> {
    ModelName::parse(name).map(|n| n.to_string())
}

/// Whether `a` and `b` name the same model: equal once normalised, ignoring
/// case (Ollama matches local names case-insensitively). Names that do not
/// parse are compared as written.
pub fn same_model(a: &str, b: &str) -> bool {
    let key = |name: &str| normalize(name).unwrap_or_else(|_| name.to_owned());
    key(a).eq_ignore_ascii_case(&key(b))
}

/// `digest` in the form `sha256:<64 lowercase hex>`, whether it came with
/// the prefix (registry, lock file) or without (`/api/tags`).
pub fn canonical_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> String {
        normalize(name).unwrap()
    }

    #[test]
    fn a_bare_model_gets_the_latest_tag() {
        assert_eq!(n("llama3.2"), "llama3.2:latest");
        assert_eq!(n("nomic-embed-text"), "nomic-embed-text:latest");
    }

    #[test]
    fn an_explicit_tag_is_kept() {
        assert_eq!(n("qwen2.5:32b"), "qwen2.5:32b");
        assert_eq!(
            n("llama3.2:3b-instruct-q4_K_M"),
            "llama3.2:3b-instruct-q4_K_M"
        );
    }

    #[test]
    fn the_default_registry_and_namespace_are_dropped() {
        assert_eq!(n("library/llama3.2"), "llama3.2:latest");
        assert_eq!(n("registry.ollama.ai/library/qwen2.5:32b"), "qwen2.5:32b");
        assert_eq!(
            n("https://registry.ollama.ai/library/qwen2.5:32b"),
            "qwen2.5:32b"
        );
        assert_eq!(n("REGISTRY.OLLAMA.AI/library/phi4"), "phi4:latest");
    }

    #[test]
    fn another_namespace_or_registry_is_kept() {
        assert_eq!(
            n("huihui_ai/qwen3-abliterated"),
            "huihui_ai/qwen3-abliterated:latest"
        );
        assert_eq!(n("registry.ollama.ai/myns/m:1b"), "myns/m:1b");
        assert_eq!(
            n("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
        );
        assert_eq!(n("localhost:5000/ns/m"), "localhost:5000/ns/m:latest");
        assert_eq!(
            n("http://localhost:5000/library/m:t"),
            "localhost:5000/library/m:t"
        );
    }

    #[test]
    fn a_colon_before_the_last_slash_is_a_port_not_a_tag() {
        let name = ModelName::parse("localhost:5000/ns/m").unwrap();
        assert_eq!(name.host, "localhost:5000");
        assert_eq!(name.tag, "latest");
    }

    #[test]
    fn case_is_kept_but_not_compared() {
        assert_eq!(n("Llama3.2:3B"), "Llama3.2:3B");
        assert!(same_model("Llama3.2:3B", "llama3.2:3b"));
        assert!(same_model(
            "llama3.2",
            "registry.ollama.ai/library/llama3.2:latest"
        ));
        assert!(!same_model("llama3.2", "llama3.2:3b"));
    }

    #[test]
    fn invalid_names_are_refused_with_the_rule_they_break() {
        let error = |name: &str| normalize(name).unwrap_err().to_string();
        assert_eq!(
            error(""),
            "`` is not an Ollama model name: it is empty; write it as `model:tag` or `namespace/model:tag`, e.g. `llama3.2:3b`"
        );
        assert!(
            error("llama3.2:").contains("its tag is empty"),
            "{}",
            error("llama3.2:")
        );
        assert!(error("-llama").contains("its model `-llama` may only hold"));
        assert!(error("ns.x/llama").contains("its namespace `ns.x`"));
        assert!(error("llama 3").contains("its model `llama 3`"));
        assert!(error("llama3.2@sha256:abcd").contains("privai.lock"));
        assert!(error(&"m".repeat(81)).contains("longer than 80"));
    }

    #[test]
    fn digests_are_compared_in_one_form() {
        let hex = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
        assert_eq!(canonical_digest(hex), format!("sha256:{hex}"));
        assert_eq!(
            canonical_digest(&format!("sha256:{hex}")),
            format!("sha256:{hex}")
        );
        assert_eq!(
            canonical_digest(&hex.to_ascii_uppercase()),
            format!("sha256:{hex}")
        );
    }
}
