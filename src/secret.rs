//! Secret values as typed values: a [`Secret`] never shows in `Debug`
//! output, and an [`ApiKey`] carries the reference it was read from (which
//! errors name) but never prints its value.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A secret string: its `Debug` shows `***`, never the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value; never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(
            Option::<String>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}

/// A Headscale API key and the secret reference it was read from (which
/// errors name; the value never appears in any message).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    value: Secret,
    reference: String,
}

impl ApiKey {
    /// The key `value`, read from `reference` (e.g. `env:HEADSCALE_API_KEY`).
    pub fn new(value: impl Into<String>, reference: impl Into<String>) -> Self {
        Self {
            value: Secret::new(value),
            reference: reference.into(),
        }
    }

    /// Where the key was read from.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The key itself; never log or print it.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}
