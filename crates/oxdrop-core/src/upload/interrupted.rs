//! Interrupted uploads from the caller's side: whose they are (the account check before a
//! resume), what they planned (to compare with the files as they are now), a new message or
//! author before resuming, and discarding one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::journal::{self, Journal, PlanFile, UploadId};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Author;
use crate::plan::{Plan, PlanRequest};
use crate::remote_path::RemotePath;
use crate::server_url::ServerUrl;

/// An interrupted upload as it was planned.
#[derive(Debug, Clone)]
pub struct Interrupted {
    pub id: UploadId,
    pub server: ServerUrl,
    pub request: PlanRequest,
    pub plan: Plan,
    pub message: String,
    pub author: Author,
}

/// Reads an interrupted upload; [`ErrorCode::UploadRunning`] while it runs.
pub fn interrupted(journal_dir: &Path, id: &UploadId) -> Result<Interrupted> {
    let (plan_file, _) = journal::peek(journal_dir, id)?;
    Ok(Interrupted {
        id: id.clone(),
        server: plan_file.server,
        request: plan_file.request,
        plan: plan_file.plan,
        message: plan_file.message,
        author: plan_file.author,
    })
}

/// A resume continues on the server, and as the user, the upload was started with: never
/// silently as someone else.
pub(crate) fn check_account(client: &OxenClient, plan_file: &PlanFile) -> Result<()> {
    if client.server() != &plan_file.server {
        return Err(Error::new(
            ErrorCode::ResumeMismatch,
            format!(
                "This upload was started on {}; sign in to that server to resume it.",
                plan_file.server
            ),
        ));
    }
    // Journals written before the user was recorded: the server is all there is to check.
    let Some(user) = &plan_file.user else {
        return Ok(());
    };
    if user != client.user() {
        let who = |u: &str| match u {
            "" => "without a user name".to_owned(),
            u => format!("as {u}"),
        };
        return Err(Error::new(
            ErrorCode::ResumeMismatch,
            format!(
                "This upload was started {} on {}, not {}; switch to that account to resume it, or discard it.",
                who(user),
                plan_file.server,
                who(client.user())
            ),
        ));
    }
    Ok(())
}

/// Gives an interrupted upload a new commit message or author before it is resumed (nothing of
/// it is committed yet). `None`, or an empty message, keeps what it had.
pub fn amend(
    journal_dir: &Path,
    id: &UploadId,
    message: Option<&str>,
    author: Option<&Author>,
) -> Result<()> {
    if let Some(a) = author {
        a.check()?;
    }
    let (mut plan_file, journal) = Journal::open(journal_dir, id)?;
    if let Some(m) = message.map(str::trim).filter(|m| !m.is_empty()) {
        m.clone_into(&mut plan_file.message);
    }
    if let Some(a) = author {
        plan_file.author = a.clone();
    }
    journal.rewrite_plan(&plan_file)
}

/// A difference on this computer between what an interrupted upload planned and the files now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalChange {
    Added(RemotePath),
    Removed(RemotePath),
    /// Another size or modification time, or another local file.
    Changed(RemotePath),
}

impl fmt::Display for LocalChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalChange::Added(p) => write!(f, "added since: {p}"),
            LocalChange::Removed(p) => write!(f, "gone since: {p}"),
            LocalChange::Changed(p) => write!(f, "changed since: {p}"),
        }
    }
}

/// What differs between an upload's plan (`before`) and a fresh plan of the same sources
/// (`now`), file by file, in repository-path order. Only this computer's side counts: the
/// branch's side is checked when the upload runs.
pub fn local_changes(before: &Plan, now: &Plan) -> Vec<LocalChange> {
    let index = |plan: &Plan| -> BTreeMap<RemotePath, (String, u64, Option<u128>)> {
        plan.files
            .iter()
            .map(|f| (f.remote.clone(), (f.local.clone(), f.size, f.mtime_ns)))
            .collect()
    };
    let (old, new) = (index(before), index(now));
    let mut changes = Vec::new();
    for (path, (local, size, mtime)) in &old {
        match new.get(path) {
            None => changes.push(LocalChange::Removed(path.clone())),
            Some((l, s, m)) => {
                let edited = mtime.is_some() && m.is_some() && mtime != m;
                if l != local || s != size || edited {
                    changes.push(LocalChange::Changed(path.clone()));
                }
            }
        }
    }
    changes.extend(
        new.keys()
            .filter(|p| !old.contains_key(*p))
            .map(|p| LocalChange::Added(p.clone())),
    );
    changes.sort_by(|a, b| change_path(a).cmp(change_path(b)));
    changes
}

fn change_path(change: &LocalChange) -> &RemotePath {
    match change {
        LocalChange::Added(p) | LocalChange::Removed(p) | LocalChange::Changed(p) => p,
    }
}

/// Forgets an interrupted upload, removing what it had sent to the server (its workspace). A
/// running upload is refused ([`ErrorCode::UploadRunning`]) and left exactly as it is.
pub async fn discard(client: &OxenClient, journal_dir: &Path, id: &UploadId) -> Result<()> {
    let (plan_file, journal) = Journal::open_any(journal_dir, id)?;
    if let Ok(plan_file) = plan_file
        && let Some(ws) = &journal.state.workspace_id
        && client.server() == &plan_file.server
    {
        // Best effort: an unreachable server must not keep the entry alive forever.
        let _ = tokio::time::timeout(
            Duration::from_secs(15),
            client.delete_workspace(&plan_file.plan.repo, ws),
        )
        .await;
    }
    journal.remove();
    Ok(())
}

/// Forgets an interrupted upload on this computer only (when its server cannot be reached);
/// refused like [`discard`] while it runs.
pub fn forget(journal_dir: &Path, id: &UploadId) -> Result<()> {
    let (_, journal) = Journal::open_any(journal_dir, id)?;
    journal.remove();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FileStatus, PlanTotals, PlannedFile};
    use crate::repo_ref::RepoRef;

    fn plan(files: &[(&str, u64, u128)]) -> Plan {
        Plan {
            repo: RepoRef::new("ns", "repo").unwrap(),
            branch: "main".into(),
            dest: RemotePath::root(),
            base_commit: None,
            files: files
                .iter()
                .map(|(remote, size, mtime)| PlannedFile {
                    local: format!("/tmp/{remote}"),
                    remote: RemotePath::parse(remote).unwrap(),
                    size: *size,
                    status: FileStatus::New,
                    hash: None,
                    mtime_ns: Some(*mtime),
                    remote_hash: None,
                    remote_commit: None,
                })
                .collect(),
            refused: vec![],
            excluded: vec![],
            notes: vec![],
            totals: PlanTotals::default(),
            default_message: "m".into(),
            removals: vec![],
        }
    }

    #[test]
    fn local_changes_name_every_added_gone_and_edited_file() {
        let before = plan(&[("a", 1, 1), ("b", 2, 2), ("c", 3, 3), ("d", 4, 4)]);
        let now = plan(&[("a", 1, 1), ("b", 5, 2), ("c", 3, 9), ("e", 1, 1)]);
        let p = |s: &str| RemotePath::parse(s).unwrap();
        assert_eq!(
            local_changes(&before, &now),
            vec![
                LocalChange::Changed(p("b")),
                LocalChange::Changed(p("c")),
                LocalChange::Removed(p("d")),
                LocalChange::Added(p("e")),
            ]
        );
        assert!(local_changes(&before, &before).is_empty());
        assert_eq!(LocalChange::Added(p("e")).to_string(), "added since: e");
    }
}
