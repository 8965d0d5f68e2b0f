//! A secret field of the spec (`headscale.api_key`,
//! `openclaw.gateway_token`, `openclaw.channels.<id>.token`): a reference to
//! the secret, parsed once when the spec is read.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret field's value as written, and what it refers to. Any text is
/// accepted; the secrets check reports one that is not a well-formed
/// reference ([`Form::Malformed`], [`Form::Literal`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct SecretRef {
    text: String,
    form: Form,
}

/// What a secret reference refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `env:NAME`: the variable `NAME` (`[A-Z_][A-Z0-9_]*`).
    Env {
        /// The variable.
        var: String,
    },
    /// `file:/PATH` or `file:~/PATH`: a file (`~/` is the home directory).
    File {
        /// The path, as written after `file:`.
        path: String,
    },
    /// `keychain:ITEM`: an item of the macOS keychain.
    Keychain {
        /// The item.
        item: String,
    },
    /// A known scheme with a malformed rest: why, to follow the reference
    /// in a message (`is empty`, `names a directory, not a file` …).
    Malformed(&'static str),
    /// Not a reference: presumably the secret itself, never to be shown.
    Literal,
}

impl SecretRef {
    /// Reads `text` as a reference.
    pub fn parse(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            form: form(text),
        }
    }

    /// What it refers to.
    pub fn form(&self) -> &Form {
        &self.form
    }

    /// Whether it is a well-formed reference.
    pub fn is_valid(&self) -> bool {
        !matches!(self.form, Form::Malformed(_) | Form::Literal)
    }

    /// The path of a `file:` reference.
    pub fn file(&self) -> Option<&str> {
        match &self.form {
            Form::File { path } => Some(path),
            _ => None,
        }
    }

    /// The text as written; for a [`Form::Literal`], the secret itself.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn form(text: &str) -> Form {
    if text.trim().is_empty() {
        return Form::Malformed("is empty");
    }
    let Some((scheme, rest)) = text.split_once(':') else {
        return Form::Literal;
    };
    match scheme {
        "env" if is_env_name(rest) => Form::Env {
            var: rest.to_owned(),
        },
        "env" => Form::Malformed(
            "names no environment variable: expected `env:NAME` with NAME in upper case, digits and `_`, such as `env:TELEGRAM_BOT_TOKEN`",
        ),
        "file" if !(rest.starts_with('/') || rest.starts_with("~/")) => {
            Form::Malformed("is not an absolute path: expected `file:/PATH` or `file:~/PATH`")
        }
        "file" if rest.ends_with('/') => Form::Malformed("names a directory, not a file"),
        "file" => Form::File {
            path: rest.to_owned(),
        },
        "keychain" if rest.trim().is_empty() => {
            Form::Malformed("names no keychain item: expected `keychain:ITEM`")
        }
        "keychain" => Form::Keychain {
            item: rest.to_owned(),
        },
        _ => Form::Literal,
    }
}

/// Whether `name` matches `[A-Z_][A-Z0-9_]*`.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Never shows a literal secret.
impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            Form::Literal => f.write_str("SecretRef(<not a reference, redacted>)"),
            _ => write!(f, "SecretRef({:?})", self.text),
        }
    }
}

impl From<String> for SecretRef {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl From<&str> for SecretRef {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<SecretRef> for String {
    fn from(reference: SecretRef) -> Self {
        reference.text
    }
}

/// Compares the text as written.
impl PartialEq<&str> for SecretRef {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_parsed_once_into_what_they_refer_to() {
        let form = |text: &str| SecretRef::parse(text).form().clone();
        assert_eq!(
            form("env:TELEGRAM_BOT_TOKEN"),
            Form::Env {
                var: "TELEGRAM_BOT_TOKEN".into()
            }
        );
        assert_eq!(
            form("file:~/.config/privai/token"),
            Form::File {
                path: "~/.config/privai/token".into()
            }
        );
        assert_eq!(
            form("keychain:privai-gateway"),
            Form::Keychain {
                item: "privai-gateway".into()
            }
        );
        assert!(matches!(form("env:lower"), Form::Malformed(_)));
        assert!(matches!(form("file:relative"), Form::Malformed(_)));
        assert_eq!(
            form("file:/etc/"),
            Form::Malformed("names a directory, not a file")
        );
        assert_eq!(form(" "), Form::Malformed("is empty"));
        assert_eq!(form("7123456789:AAHdqTcv"), Form::Literal);
        assert_eq!(SecretRef::parse("file:/k").file(), Some("/k"));
        assert_eq!(SecretRef::parse("env:K").file(), None);
    }

    #[test]
    fn a_literal_secret_is_never_shown_by_debug_and_round_trips_as_text() {
        let literal = SecretRef::parse("hunter2hunter2");
        assert!(!format!("{literal:?}").contains("hunter2"));
        let read: SecretRef = serde_json::from_str("\"env:K\"").unwrap();
        assert_eq!(read, "env:K");
        assert_eq!(serde_json::to_string(&read).unwrap(), "\"env:K\"");
    }
}
