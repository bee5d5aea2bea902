//! What the core hands to its callers (CLI, app, tests): small, stable, exported to TypeScript.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::remote_path::RemotePath;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct ServerInfo {
    /// The oxen-server version, e.g. `0.65.2`.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct RepoSummary {
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct RepoDetails {
    pub namespace: String,
    pub name: String,
    /// No branch and no commit yet.
    pub is_empty: bool,
    pub size: u64,

    pub branch_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct Branch {
    pub name: String,
    pub commit_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct Commit {
    pub id: String,
    pub message: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub timestamp: String,
    pub parent_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct DirEntry {
    pub name: String,
    /// Full path from the repository root.
    pub path: RemotePath,
    pub is_dir: bool,
    pub size: u64,
    /// XXH3-128 of the content (files only), lowercase hex without leading zeros.
    pub hash: Option<String>,
    /// The last commit that changed it, at the listed revision (to name who changed a file).
    #[serde(skip)]
    #[ts(skip)]
    pub latest_commit: Option<Commit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct DirPage {
    pub entries: Vec<DirEntry>,
    pub page: u32,
    pub total_pages: u32,
    pub total_entries: u64,
}

/// What happened on the branch, since the review, to a path an upload would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum BranchChange {
    /// A file is there now where the review saw none.
    Added,
    /// The file the review saw is gone.
    Removed,
    /// The file has other content than the review saw.
    Modified,
    /// A folder is there now, or a file where a folder is needed.
    Blocked,
}

/// A file of the upload that someone changed on the branch after the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangedOnBranch {
    pub path: RemotePath,
    pub change: BranchChange,
    /// The commit that made the change, when the server says.
    pub commit: Option<Commit>,
}

/// The name and email recorded on commits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]

pub struct Author {
    pub name: String,
    pub email: String,
}

impl Author {
    pub fn check(&self) -> crate::Result<()> {
        use crate::error::{Error, ErrorCode};
        if self.name.trim().is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "Commits need an author name. Enter your name in the author field.",
            ));
        }
        let email = self.email.trim();
        let plausible = email
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty());
        if !plausible || email.contains(char::is_whitespace) {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "'{}' is not an email address. Commits need an author email such as \
                     name@example.com.",
                    self.email
                ),
            ));
        }
        Ok(())
    }
}
