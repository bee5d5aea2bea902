//! Accounts: a server, a user name and an API key kept in the OS keychain. Everything that is
//! not secret (accounts without keys, the active one, the commit author, recent destinations)
//! lives in `settings.json` in the OS config folder.

pub mod keychain;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use keychain::Keychain;
// Signing in takes the key as `SecretText`; it lives with `ApiKey`.
pub use crate::secret::SecretText;

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::{FileLock, now_unix, write_atomic};
use crate::model::Author;
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;

const FORMAT: u32 = 1;
const RECENT_MAX: usize = 8;
/// Favourite places kept at most (pinned by the user, never pushed out by newer ones).
pub const PINNED_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Account {
    /// `user@server`, or the server alone: also the keychain entry's name.
    pub id: String,
    pub server: ServerUrl,
    /// The user's name (namespace) on the server; may be empty.
    pub user: String,
    /// A key is in the keychain (false for a keyless local server).
    pub has_key: bool,
    /// The user accepted plain http:// to another computer.
    #[serde(default)]
    pub insecure_ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Destination {
    pub account_id: String,
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    pub format: u32,
    pub accounts: Vec<Account>,
    pub active: Option<String>,
    pub author: Option<Author>,
    /// The last places uploaded to, newest first (the pinned ones are not repeated here).
    pub recent: Vec<Destination>,
    /// Favourite places, in the order pinned: shown before the recent ones, never pushed out.
    #[serde(default)]
    pub pinned: Vec<Destination>,
    /// Files and folders never to upload, in gitignore syntax (`*.bak`, `build/`), applied like
    /// a repository's `.oxenignore`.
    #[serde(default)]
    pub ignore_patterns: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            format: FORMAT,
            accounts: Vec::new(),
            active: None,
            author: None,
            recent: Vec::new(),
            pinned: Vec::new(),
            ignore_patterns: Vec::new(),
        }
    }
}

impl Settings {
    pub fn active_account(&self) -> Option<&Account> {
        let id = self.active.as_deref()?;
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account for a server: the active one if it is on that server, else the first.
    pub fn account_for(&self, server: &ServerUrl) -> Option<&Account> {
        self.active_account()
            .filter(|a| &a.server == server)
            .or_else(|| self.accounts.iter().find(|a| &a.server == server))
    }

    /// A place just uploaded to goes first among the recent ones (the last eight), unless it is
    /// pinned.
    pub fn remember_destination(&mut self, d: Destination) {
        self.recent.retain(|r| r != &d);
        if self.pinned.contains(&d) {
            return;
        }
        self.recent.insert(0, d);
        self.recent.truncate(RECENT_MAX);
    }

    /// Makes a place a favourite: listed first, and kept whatever is uploaded after.
    pub fn pin(&mut self, d: Destination) -> Result<()> {
        if self.pinned.contains(&d) {
            return Ok(());
        }
        if self.pinned.len() >= PINNED_MAX {
            return Err(Error::invalid_input(format!(
                "You can pin up to {PINNED_MAX} places: unpin one first."
            )));
        }
        self.recent.retain(|r| r != &d);
        self.pinned.push(d);
        Ok(())
    }

    /// No longer a favourite: it goes back to the top of the recent places.
    pub fn unpin(&mut self, d: &Destination) {
        if let Some(at) = self.pinned.iter().position(|p| p == d) {
            let d = self.pinned.remove(at);
            self.remember_destination(d);
        }
    }

    /// The places to offer, pinned first, then the recent ones.
    pub fn places(&self) -> Vec<Destination> {
        self.pinned.iter().chain(&self.recent).cloned().collect()
    }
}

/// The settings file.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    path: PathBuf,
}

impl SettingsStore {
    pub fn new(dir: &Path) -> SettingsStore {
        SettingsStore {
            path: dir.join("settings.json"),
        }
    }

    /// In the OS config folder (or `$OXDROP_CONFIG_DIR`).
    pub fn default_location() -> Result<SettingsStore> {
        crate::app_dirs::required_config_dir().map(|d| SettingsStore::new(&d))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the settings; a missing file is a fresh start. A damaged file is set aside (renamed)
    /// rather than silently overwritten, and a fresh start is made.
    pub fn load(&self) -> Settings {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return Settings::default();
        };
        match serde_json::from_slice::<Settings>(&bytes) {
            Ok(s) if s.format == FORMAT => s,
            _ => {
                let aside = self
                    .path
                    .with_extension(format!("damaged-{}.json", now_unix()));
                tracing::warn!(path = %self.path.display(), aside = %aside.display(), "settings unreadable; set aside");
                let _ = std::fs::rename(&self.path, aside);
                Settings::default()
            }
        }
    }

    /// Changes the settings: reads them, lets `change` edit them, and writes them back, all under
    /// a lock on `settings.lock`, so that two windows or commands changing them at once never
    /// lose each other's changes. Nothing is written when `change` fails.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<T>,
    ) -> Result<(Settings, T)> {
        let dir = self.dir();
        std::fs::create_dir_all(dir).map_err(|e| self.unwritable(&e))?;
        let _lock =
            FileLock::acquire(&dir.join("settings.lock")).map_err(|e| self.unwritable(&e))?;
        let mut settings = self.load();
        let answer = change(&mut settings)?;
        let bytes = serde_json::to_vec_pretty(&settings).map_err(Error::internal)?;
        write_atomic(&self.path, &bytes).map_err(|e| self.unwritable(&e))?;
        Ok((settings, answer))
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn unwritable(&self, e: &std::io::Error) -> Error {
        Error::new(
            ErrorCode::ConfigUnwritable,
            format!(
                "OxDrop cannot save its settings in {}: {}. Free some space or fix the folder's permissions.",
                self.dir().display(),
                describe_io_error(e)
            ),
        )
        .retryable(false)
        .with_detail(e.to_string())
    }
}

/// What a user typed to sign in.
#[derive(Debug, Deserialize, TS)]
pub struct SignIn {
    pub server: String,
    #[serde(default)]
    pub user: String,
    /// The API key as typed; empty is allowed only for a server on this computer.
    #[ts(type = "string")]
    pub key: SecretText,
    #[serde(default)]
    pub accept_insecure: bool,
}

pub fn account_id(server: &ServerUrl, user: &str) -> String {
    let user = user.trim();
    if user.is_empty() {
        server.to_string()
    } else {
        format!("{user}@{server}")
    }
}

/// Checks the server and the key, then stores the key in the keychain and the account in the
/// settings. Nothing is stored when any step fails; a key the server rejects is never stored.
pub async fn sign_in(store: &SettingsStore, keychain: &Keychain, form: SignIn) -> Result<Account> {
    let server = ServerUrl::parse(&form.server)?;
    server.check_secure(form.accept_insecure)?;
    let user = form.user.trim().to_owned();
    if !user.is_empty() {
        RepoRef::new(&user, "x").map_err(|_| {
            Error::new(
                ErrorCode::InvalidName,
                format!("'{user}' is not a user name: it must be one word without slashes."),
            )
        })?;
    }
    let key = form.key.into_key();
    if key.is_none() && !server.is_loopback() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "Enter your API key. You can create one in your account settings on the server.",
        ));
    }
    let client = OxenClient::new(server.clone(), key.clone())?;
    verify(&client).await?;

    let id = account_id(&server, &user);
    let account = Account {
        id: id.clone(),
        server,
        user,
        has_key: key.is_some(),
        insecure_ok: form.accept_insecure,
    };
    // Keychain calls are blocking D-Bus (or OS) round trips: keep them off the async workers.
    let (store, keychain) = (store.clone(), keychain.clone());
    let stored = account.clone();
    tokio::task::spawn_blocking(move || {
        let previous_key = keychain.get(&id).ok().flatten();
        match &key {
            Some(k) => keychain.set(&id, k)?,
            // A keyless account (a local server) needs no keychain; clear an old key if we can.
            None => {
                let _ = keychain.delete(&id);
            }
        }
        let saved = store.update(|settings| {
            settings.accounts.retain(|a| a.id != id);
            settings.accounts.push(stored);
            settings.active = Some(id.clone());
            Ok(())
        });
        if let Err(e) = saved {
            // Leave things as they were: no half-signed-in account.
            let _ = match previous_key {
                Some(k) => keychain.set(&id, &k),
                None => keychain.delete(&id),
            };
            return Err(e);
        }
        Ok(())
    })
    .await
    .map_err(Error::internal)??;
    Ok(account)
}

/// Is this an Oxen server, and does it take this key? A server that does not check keys (a
/// bare oxen-server) accepts any; one behind an auth proxy, or the hub, answers 401/403.
pub async fn verify(client: &OxenClient) -> Result<()> {
    client.version().await?;
    client.namespaces().await.map(|_| ())
}

/// Deletes the account's key from the keychain and forgets the account.
pub fn sign_out(store: &SettingsStore, keychain: &Keychain, id: &str) -> Result<Settings> {
    keychain.delete(id)?;
    let (settings, ()) = store.update(|settings| {
        settings.accounts.retain(|a| a.id != id);
        settings.recent.retain(|d| d.account_id != id);
        settings.pinned.retain(|d| d.account_id != id);
        if settings.active.as_deref() == Some(id) {
            settings.active = settings.accounts.first().map(|a| a.id.clone());
        }
        Ok(())
    })?;
    Ok(settings)
}

/// Makes another signed-in account the active one.
pub fn switch(store: &SettingsStore, id: &str) -> Result<Settings> {
    let (settings, ()) = store.update(|settings| {
        if !settings.accounts.iter().any(|a| a.id == id) {
            return Err(Error::new(
                ErrorCode::NotSignedIn,
                "That account is not signed in any more.",
            ));
        }
        settings.active = Some(id.to_owned());
        Ok(())
    })?;
    Ok(settings)
}

/// A client for an account, with its key from the keychain.
pub fn client_for(keychain: &Keychain, account: &Account) -> Result<OxenClient> {
    let key = if account.has_key {
        Some(keychain.get(&account.id)?.ok_or_else(|| {
            Error::new(
                ErrorCode::NotSignedIn,
                format!(
                    "The API key for {} is no longer in the keychain. Sign in again.",
                    account.server
                ),
            )
        })?)
    } else {
        None
    };
    Ok(OxenClient::new(account.server.clone(), key)?.for_user(&account.user))
}

#[cfg(test)]
mod tests;
