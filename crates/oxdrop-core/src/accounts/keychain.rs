//! The OS keychain, through the `keyring` crate: Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows. The only place an API key is ever stored. There is no
//! fallback: without a keychain, signing in fails with an error saying so.

use crate::error::{Error, ErrorCode, Result};
use crate::secret::ApiKey;

/// The keychain "service" OxDrop's entries are filed under.
pub const SERVICE: &str = "OxDrop";

/// Keychain entries of one service, addressed by account id.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    /// OxDrop's entries: `$OXDROP_KEYCHAIN_SERVICE` (tests use their own) or `OxDrop`.
    pub fn default_service() -> Keychain {
        Keychain::new(&std::env::var("OXDROP_KEYCHAIN_SERVICE").unwrap_or_else(|_| SERVICE.into()))
    }

    pub fn new(service: &str) -> Keychain {
        Keychain {
            service: service.to_owned(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account_id: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account_id).map_err(map_error)
    }

    /// Stores (or replaces) the key of an account.
    pub fn set(&self, account_id: &str, key: &ApiKey) -> Result<()> {
        self.entry(account_id)?
            .set_password(key.expose())
            .map_err(map_error)
    }

    /// The key of an account, or `None` if the keychain has none.
    pub fn get(&self, account_id: &str) -> Result<Option<ApiKey>> {
        match self.entry(account_id)?.get_password() {
            Ok(text) => Ok(ApiKey::new(text)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Removes the key of an account; removing a missing entry is fine.
    pub fn delete(&self, account_id: &str) -> Result<()> {
        match self.entry(account_id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

fn map_error(e: keyring::Error) -> Error {
    let detail = e.to_string();
    let lower = detail.to_ascii_lowercase();
    match e {
        keyring::Error::NoStorageAccess(_) => Error::new(
            ErrorCode::KeychainDenied,
            "The system keychain is locked or refused access. Unlock it (or allow OxDrop to use it) and try again.",
        ),
        keyring::Error::PlatformFailure(_)
            if lower.contains("dbus")
                || lower.contains("d-bus")
                || lower.contains("secret")
                || lower.contains("serviceunknown")
                || lower.contains("autolaunch") =>
        {
            unavailable()
        }
        _ => Error::new(
            ErrorCode::KeychainUnavailable,
            "The system keychain could not be used, so the API key was not stored. Check that your keychain works and try again.",
        ),
    }
    .retryable(false)
    .with_detail(detail)
}

fn unavailable() -> Error {
    let hint = if cfg!(target_os = "linux") {
        " On Linux this is the Secret Service: install and start GNOME Keyring (gnome-keyring) or KWallet, then sign in again."
    } else {
        ""
    };
    Error::new(
        ErrorCode::KeychainUnavailable,
        format!(
            "OxDrop keeps your API key only in the system keychain, and no keychain is available.{hint} OxDrop never stores the key anywhere else."
        ),
    )
}
