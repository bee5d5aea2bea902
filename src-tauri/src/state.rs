//! What the running app holds: the signed-in account's client, the files the user chose (only
//! from the native dialogs and OS drops, never from the webview) and the reviewed plan. The
//! uploads themselves run in the list (`runner`). Commands change it only through the methods
//! here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use oxdrop_core::accounts::{self, Account, Keychain, SettingsStore};
use oxdrop_core::plan::{Plan, PlanRequest};
use oxdrop_core::sync::lock;
use oxdrop_core::{Error, ErrorCode, OxenClient, Result};

use crate::sandbox::Sandbox;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug)]
pub struct AppState {
    pub settings: SettingsStore,
    pub keychain: Keychain,
    pub journal_dir: PathBuf,
    /// The local oxen-server started by the run script, offered as "try it offline".
    pub sandbox: Option<Sandbox>,
    session: Mutex<Option<Session>>,
    sources: Mutex<Sources>,
    /// The plan the user last reviewed, with what it was made from; an upload sends exactly it.
    reviewed: Mutex<Option<(PlanRequest, Plan)>>,
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

impl AppState {
    pub fn new(
        settings: SettingsStore,
        keychain: Keychain,
        journal_dir: PathBuf,
        sandbox: Option<Sandbox>,
    ) -> AppState {
        AppState {
            settings,
            keychain,
            journal_dir,
            sandbox,
            session: Mutex::new(None),
            sources: Mutex::new(Sources::default()),
            reviewed: Mutex::new(None),
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

    /// Keeps the plan the user is shown, so that starting the upload sends exactly it.
    pub fn remember_plan(&self, request: PlanRequest, plan: Plan) {
        *lock(&self.reviewed) = Some((request, plan));
    }

    /// Forgets the reviewed plan: planning again starts, and until it succeeds there is nothing
    /// to upload (never the plan before it).
    pub fn forget_plan(&self) {
        *lock(&self.reviewed) = None;
    }

    /// The plan the user last reviewed and what it was made from.
    pub fn reviewed_plan(&self) -> Result<(PlanRequest, Plan)> {
        lock(&self.reviewed).clone().ok_or_else(|| {
            Error::new(
                ErrorCode::NothingToUpload,
                "Review the upload first: choose files and a destination.",
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing here touches the disk or the keychain.
    fn state() -> AppState {
        let dir = std::env::temp_dir().join("oxdrop-state-test-unused");
        AppState::new(
            SettingsStore::new(&dir),
            Keychain::new("oxdrop-state-test"),
            dir,
            None,
        )
    }

    #[test]
    fn a_forgotten_plan_cannot_be_uploaded() {
        let state = state();
        let repo = oxdrop_core::RepoRef::new("ns", "repo").unwrap();
        let request = PlanRequest {
            repo: repo.clone(),
            branch: "main".into(),
            dest: oxdrop_core::RemotePath::root(),
            sources: vec![],
            follow_links: false,
            ignore_patterns: vec![],
            contents: None,
        };
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "repo": repo, "branch": "main", "dest": "", "base_commit": null, "files": [],
            "refused": [], "totals": {"new_files": 0, "new_bytes": 0, "overwrite_files": 0,
            "overwrite_bytes": 0, "unchanged_files": 0, "unchanged_bytes": 0, "refused": 0},
            "default_message": "m"
        }))
        .unwrap();
        state.remember_plan(request, plan);
        assert!(state.reviewed_plan().is_ok());
        state.forget_plan();
        let err = state.reviewed_plan().unwrap_err();
        assert!(err.message.contains("Review the upload first"), "{err:?}");
    }
}
