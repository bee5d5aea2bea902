//! The API key, wrapped so it cannot leak by accident, and [`SecretText`], key text on its way in
//! from a form.
//!
//! `Debug` and `Display` print `<redacted>`, serializing fails, and the memory is wiped on drop.
//! The only way to the text is [`ApiKey::expose`], used when building the `Authorization` header
//! and when handing the key to the OS keychain.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

pub struct ApiKey(String);

impl ApiKey {
    /// Takes a key as typed or pasted; surrounding whitespace (a copied newline) is dropped.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let mut raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            wipe(&mut raw);
            return None;
        }
        let key = ApiKey(trimmed.to_owned());
        wipe(&mut raw);
        Some(key)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn wipe(text: &mut String) {
    // Overwrite in place before the allocation is freed.
    let mut bytes = std::mem::take(text).into_bytes();
    for b in bytes.iter_mut() {
        // A volatile-free wipe is enough against accidental reuse; we make no claim against an
        // attacker who can read process memory.
        *b = 0;
    }
    std::hint::black_box(&bytes);
}

impl Drop for ApiKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl Clone for ApiKey {
    fn clone(&self) -> Self {
        ApiKey(self.0.clone())
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "an API key is never serialized; keep it in the keychain",
        ))
    }
}

/// Key text on its way in from a form: never printed, never serialized back.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> SecretText {
        SecretText(text.into())
    }

    pub fn into_key(self) -> Option<ApiKey> {
        ApiKey::new(self.0)
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_or_serializes() {
        let key = ApiKey::new("  sk-live-123456789  \n").unwrap();
        assert_eq!(key.expose(), "sk-live-123456789");
        assert_eq!(format!("{key:?} {key}"), "<redacted> <redacted>");
        assert!(serde_json::to_string(&key).is_err());
        #[derive(Serialize)]
        struct Holder {
            key: ApiKey,
        }
        assert!(serde_json::to_string(&Holder { key }).is_err());
    }

    #[test]
    fn blank_is_no_key() {
        assert!(ApiKey::new(" \n\t").is_none());
    }
}
