//! What the running app holds: the signed-in account's client, the files the user chose (only
//! from the native dialogs and OS drops, never from the webview), the current plan and upload.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use oxdrop_core::accounts::{self, Account, Keychain, SettingsStore};
use oxdrop_core::plan::{Plan, PlanRequest};
use oxdrop_core::upload::UploadOutcome;
use oxdrop_core::{Error, ErrorCode, OxenClient, Result, ServerUrl};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

#[derive(Debug)]
pub struct AppState {
    pub settings: SettingsStore,
    pub keychain: Keychain,
    pub journal_dir: PathBuf,
    /// The local oxen-server started by the run script, offered as "try it offline".
    pub sandbox: Option<ServerUrl>,
    session: Mutex<Option<Session>>,
    sources: Mutex<Sources>,
    pub last_plan: Mutex<Option<(PlanRequest, Plan)>>,
    pub running: Mutex<Option<CancellationToken>>,
    pub last_outcome: Mutex<Option<(PlanRequest, UploadOutcome)>>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub client: OxenClient,
}

/// A file or folder the user chose, known to the webview only by its id.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Source {
    pub id: u32,
    /// Shown to the user; never accepted back.
    pub path: String,
    pub name: String,
    pub is_dir: bool,
}

#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct SourcesView {
    pub items: Vec<Source>,
}

#[derive(Debug, Default)]
struct Sources {
    next: u32,
    items: BTreeMap<u32, PathBuf>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    pub fn new(
        settings: SettingsStore,
        keychain: Keychain,
        journal_dir: PathBuf,
        sandbox: Option<ServerUrl>,
    ) -> AppState {
        AppState {
            settings,
            keychain,
            journal_dir,
            sandbox,
            session: Mutex::new(None),
            sources: Mutex::new(Sources::default()),
            last_plan: Mutex::new(None),
            running: Mutex::new(None),
            last_outcome: Mutex::new(None),
        }
    }

    /// The active account's client, opening it (key from the keychain) on first use.
    pub fn session(&self) -> Result<Session> {
        let settings = self.settings.load();
        let Some(account) = settings.active_account().cloned() else {
            return Err(Error::new(
                ErrorCode::NotSignedIn,
                "Sign in to a server first.",
            ));
        };
        let mut session = lock(&self.session);
        if let Some(s) = session.as_ref().filter(|s| s.account == account) {
            return Ok(s.clone());
        }
        let client = accounts::client_for(&self.keychain, &account)?;
        let opened = Session { account, client };
        *session = Some(opened.clone());
        Ok(opened)
    }

    pub fn forget_session(&self) {
        *lock(&self.session) = None;
    }

    /// Adds paths that came from the native dialog or an OS drop. Canonicalised, deduplicated.
    pub fn add_sources(&self, paths: impl IntoIterator<Item = PathBuf>) -> SourcesView {
        let mut sources = lock(&self.sources);
        for path in paths {
            let Ok(canonical) = path.canonicalize() else {
                tracing::info!(path = %path.display(), "dropped path no longer exists");
                continue;
            };
            if sources.items.values().any(|p| p == &canonical) {
                continue;
            }
            sources.next += 1;
            let id = sources.next;
            sources.items.insert(id, canonical);
        }
        view(&sources)
    }

    pub fn sources_view(&self) -> SourcesView {
        view(&lock(&self.sources))
    }

    pub fn remove_source(&self, id: u32) -> Result<SourcesView> {
        let mut sources = lock(&self.sources);
        if sources.items.remove(&id).is_none() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "That file is not in the upload list.",
            ));
        }
        Ok(view(&sources))
    }

    pub fn clear_sources(&self) -> SourcesView {
        let mut sources = lock(&self.sources);
        sources.items.clear();
        view(&sources)
    }

    pub fn source_paths(&self) -> Vec<PathBuf> {
        lock(&self.sources).items.values().cloned().collect()
    }
}

fn view(sources: &Sources) -> SourcesView {
    SourcesView {
        items: sources
            .items
            .iter()
            .map(|(id, path)| Source {
                id: *id,
                path: path.display().to_string(),
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string()),
                is_dir: Path::is_dir(path),
            })
            .collect(),
    }
}
