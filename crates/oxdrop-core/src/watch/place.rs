//! Where a watch uploads: the account's client (its key from the keychain), the folder's paths
//! inside the destination folder, and what the branch has at some of them.

use std::collections::{BTreeMap, HashMap};

use super::Watch;
use super::context::WatchContext;
use crate::accounts::{self, Destination};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::model::DirEntry;
use crate::remote_path::RemotePath;
use crate::server_url::ServerUrl;

/// A client for the watch's account, its key from the keychain. A server on this computer that
/// was never signed in to needs no key.
pub(super) async fn connect(ctx: &WatchContext, watch: &Watch) -> Result<OxenClient> {
    let folder = watch.folder.display().to_string();
    connect_to(ctx, &watch.destination, &folder).await
}

/// Checks that the destination exists and the account can reach it, before a watch is set up:
/// the repository, and the branch unless the repository is still empty (the first upload
/// creates it).
pub async fn check_destination(ctx: &WatchContext, destination: &Destination) -> Result<()> {
    let client = connect_to(ctx, destination, "this folder").await?;
    let repo = client.repository(&destination.repo).await?;
    match client.branch(&destination.repo, &destination.branch).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::BranchNotFound && repo.is_empty => Ok(()),
        Err(e) => Err(e),
    }
}

async fn connect_to(ctx: &WatchContext, d: &Destination, folder: &str) -> Result<OxenClient> {
    let id = &d.account_id;
    let account = ctx
        .settings
        .load()
        .accounts
        .into_iter()
        .find(|a| &a.id == id);
    if let Some(account) = account {
        let keychain = ctx.keychain.clone();
        let (server, insecure_ok) = (account.server.clone(), account.insecure_ok);
        let client = tokio::task::spawn_blocking(move || accounts::client_for(&keychain, &account))
            .await
            .map_err(Error::internal)??;
        if client.has_key() {
            server.check_secure(insecure_ok)?;
        }
        return Ok(client);
    }
    match ServerUrl::parse(id) {
        Ok(url) if !id.contains('@') && url.is_loopback() => OxenClient::new(url, None),
        _ => Err(Error::new(
            ErrorCode::NotSignedIn,
            format!(
                "The account {id} is not signed in on this computer any more. Sign in to it again to keep {folder} uploaded."
            ),
        )),
    }
}

/// `rel` (relative to the watched folder) inside the destination folder.
pub(super) fn remote_of(dest: &RemotePath, rel: &str) -> Result<RemotePath> {
    if dest.is_root() {
        RemotePath::parse(rel)
    } else {
        RemotePath::parse(&format!("{dest}/{rel}"))
    }
}

/// The path relative to the watched folder of a repository path inside the destination.
pub(super) fn rel_of(dest: &RemotePath, remote: &RemotePath) -> String {
    if dest.is_root() {
        return remote.as_str().to_owned();
    }
    remote
        .as_str()
        .strip_prefix(dest.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(remote.as_str())
        .to_owned()
}

pub(super) fn no_author() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "Commits need an author. Enter your name and email in OxDrop, or run `oxdrop author \"Your Name <you@example.com>\"`.",
    )
}

/// The branch's files among these paths (relative to the watched folder), by path.
pub(super) async fn branch_files(
    client: &OxenClient,
    d: &Destination,
    rels: &[String],
) -> Result<HashMap<String, DirEntry>> {
    let mut by_dir: BTreeMap<RemotePath, HashMap<String, String>> = BTreeMap::new();
    for rel in rels {
        let remote = remote_of(&d.dest, rel)?;
        by_dir
            .entry(remote.parent())
            .or_default()
            .insert(remote.to_string(), rel.clone());
    }
    let mut found = HashMap::new();
    for (dir, wanted) in by_dir {
        let entries = match client.list_dir_all(&d.repo, &d.branch, &dir).await {
            Ok(entries) => entries,
            Err(e) if e.code == ErrorCode::PathNotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        for entry in entries {
            if let Some(rel) = wanted.get(entry.path.as_str())
                && !entry.is_dir
            {
                found.insert(rel.clone(), entry);
            }
        }
    }
    Ok(found)
}
