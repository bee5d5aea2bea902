//! The plan: what an upload will do, decided before a single byte is sent.
//!
//! Local files and folders are walked (folders keep their structure and their own name), each file
//! gets its repository path and size, and is compared with the branch: new, unchanged (same
//! content) or overwritten. Whatever cannot be uploaded is refused with the reason, and the rest
//! of the plan goes ahead. What is left out on purpose (links leading out of a dropped folder,
//! system clutter, ignored files) is listed apart, with the reason and the rule.

mod collisions;
mod contents;
mod exclude;
mod ignore;
mod recheck;
mod remote;
#[cfg(test)]
mod test_plans;
mod walk;

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::same_hash;
use crate::remote_path::RemotePath;
use crate::repo_ref::{RepoRef, check_branch_name};
use collisions::refuse_collisions;
use exclude::ExcludeRules;
use ignore::IgnoreRules;
pub use recheck::{changed_since_review, review_outdated};
use remote::{RemoteKind, RemoteTree};
use walk::{Candidate, Walked, io_refusal, refusal, walk_contents, walk_sources};

pub use contents::FolderContents;
pub use exclude::{Exclusion, ExclusionReason};
pub(crate) use remote::hash_many;

/// What the caller wants uploaded, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanRequest {
    pub repo: RepoRef,
    pub branch: String,
    /// Folder in the repository; empty for the top level.
    pub dest: RemotePath,
    /// Local files and folders. Folders are uploaded with their own name, like a copy.
    #[ts(type = "string[]")]
    pub sources: Vec<PathBuf>,
    /// Follow symbolic links that lead outside a dropped folder too (by default they are left
    /// out and listed). Left out of the JSON when off, so older journals still match.
    #[serde(default, skip_serializing_if = "is_false")]
    pub follow_links: bool,
    /// The ignore list from OxDrop's settings (gitignore syntax), applied like `.oxenignore`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_patterns: Vec<String>,
    /// A watched folder: `sources` is that one folder, and what is inside it goes straight into
    /// `dest`. Only watches ask for this (not exported to the UI).
    #[ts(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<FolderContents>,
}

fn is_false(b: &bool) -> bool {
    !b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Not on the branch yet.
    New,
    /// On the branch with other content: this upload replaces it.
    Overwrite,
    /// On the branch with the same content: nothing to send.
    Unchanged,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PlannedFile {
    pub local: String,
    pub remote: RemotePath,
    pub size: u64,
    pub status: FileStatus,
    /// Known when it had to be computed to compare with the branch; otherwise hashed on upload.
    pub hash: Option<String>,
    /// The hash of the file the branch had at `remote` when planned (overwritten and unchanged
    /// files); new files had none. What the upload checks again if the branch moves.
    #[ts(skip)]
    #[serde(default)]
    pub remote_hash: Option<String>,
    /// Modification time seen while planning (ns since the epoch), to notice later edits.
    #[ts(skip)]
    #[serde(default)]
    pub mtime_ns: Option<u128>,
    /// The commit that last changed the file the branch had at `remote` when planned: a watch
    /// names it when someone else changed a file it keeps uploaded.
    #[ts(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_commit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// It no longer exists.
    Missing,
    /// A symbolic link pointing nowhere.
    BrokenLink,
    /// A link back into a folder that contains it.
    SymlinkLoop,
    /// A pipe, socket or device.
    SpecialFile,
    /// No permission, or a read error.
    Unreadable,
    /// The name is not valid text (UTF-8).
    NameNotText,
    /// The name or path cannot exist in a repository (`.oxen`, control characters…).
    NameNotAllowed,
    /// Two sources would land on the same repository path.
    DuplicateDestination,
    /// A file where a folder is needed, or the other way round.
    PathConflict,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Refusal {
    /// The local path, as it can be shown.
    pub local: String,
    pub remote: Option<RemotePath>,
    pub reason: RefusalReason,
    /// What went wrong and what to do, for people.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanTotals {
    pub new_files: u32,
    pub new_bytes: u64,
    pub overwrite_files: u32,
    pub overwrite_bytes: u64,
    pub unchanged_files: u32,
    pub unchanged_bytes: u64,
    pub refused: u32,
    /// Files and folders left out on purpose (a folder counts once).
    #[serde(default)]
    pub excluded: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Plan {
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    /// The branch head when planned; `None` for a repository with no commits yet.
    pub base_commit: Option<String>,
    pub files: Vec<PlannedFile>,
    pub refused: Vec<Refusal>,
    /// Left out on purpose: links leading outside, system clutter, ignored files.
    #[serde(default)]
    pub excluded: Vec<Exclusion>,
    /// What the user should know about this plan, such as an `.oxenignore` that could not be used.
    #[serde(default)]
    pub notes: Vec<String>,
    pub totals: PlanTotals,
    /// A commit message describing the files, offered as the default.
    pub default_message: String,
    /// Paths the commit removes from the branch (a watch mirroring local deletions).
    #[ts(skip)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removals: Vec<RemotePath>,
}

impl Plan {
    /// Files that will be sent (new or overwritten).
    pub fn to_send(&self) -> impl Iterator<Item = (usize, &PlannedFile)> {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.status != FileStatus::Unchanged)
    }

    /// The folder the upload went into: the deepest one holding all its files (the destination
    /// when they are spread over it, a dropped folder when it was dropped alone).
    pub fn folder(&self) -> RemotePath {
        let mut parents = self.files.iter().map(|f| f.remote.parent());
        let Some(first) = parents.next() else {
            return self.dest.clone();
        };
        let mut common: Vec<&str> = first.segments().collect();
        for parent in parents {
            let same = common
                .iter()
                .zip(parent.segments())
                .take_while(|(a, b)| *a == b)
                .count();
            common.truncate(same);
        }
        // Built from segments of checked paths, so it parses.
        RemotePath::parse(&common.join("/")).unwrap_or_else(|_| self.dest.clone())
    }
}

/// Walks the sources and compares them with the branch.
pub async fn make_plan(client: &OxenClient, request: &PlanRequest) -> Result<Plan> {
    check_branch_name(&request.branch)?;
    if request.sources.is_empty() {
        return Err(Error::new(
            ErrorCode::NothingToUpload,
            "Choose some files or folders to upload first.",
        ));
    }
    let repo_details = client.repository(&request.repo).await?;
    let base_commit = match client.branch(&request.repo, &request.branch).await {
        Ok(branch) => Some(branch.commit_id),
        Err(e) if e.code == ErrorCode::BranchNotFound && repo_details.is_empty => None,
        Err(e) => return Err(e),
    };

    let (ignore, notes) = IgnoreRules::load(client, request, base_commit.as_deref()).await?;
    let rules = ExcludeRules {
        ignore,
        follow_links: request.follow_links,
    };
    let sources = request.sources.clone();
    let dest = request.dest.clone();
    let contents = contents::only_for(request)?;
    let Walked {
        found,
        mut refused,
        mut excluded,
    } = tokio::task::spawn_blocking(move || match contents {
        Some(only) => walk_contents(&sources[0], &dest, &only, &rules),
        None => walk_sources(&sources, &dest, &rules),
    })
    .await
    .map_err(Error::internal)?;
    let candidates = refuse_collisions(found, &mut refused);

    // Listed at the head just read, so that what the plan saw is exactly `base_commit`.
    let remote = match &base_commit {
        Some(base) => {
            let paths = candidates.iter().map(|c| &c.remote);
            Some(RemoteTree::load(client, &request.repo, base, paths).await?)
        }
        None => None,
    };

    let mut files = Vec::with_capacity(candidates.len());
    let mut to_hash = Vec::new();
    for candidate in candidates {
        let existing = remote.as_ref().and_then(|t| t.lookup(&candidate.remote));
        match existing {
            Some(RemoteKind::Dir) => refused.push(refusal(
                &candidate.local,
                Some(candidate.remote.clone()),
                RefusalReason::PathConflict,
                format!(
                    "The repository already has a folder at '{}', so this file cannot go there. Rename the file or choose another destination.",
                    candidate.remote
                ),
            )),
            Some(RemoteKind::UnderFile(file)) => refused.push(refusal(
                &candidate.local,
                Some(candidate.remote.clone()),
                RefusalReason::PathConflict,
                format!(
                    "The repository has a file named '{file}' where this upload needs a folder. Rename it or choose another destination."
                ),
            )),
            Some(RemoteKind::File { size, hash }) => {
                if size == candidate.size {
                    to_hash.push((files.len(), hash.clone()));
                }
                let commit = remote.as_ref().and_then(|t| t.latest_commit(&candidate.remote));
                let mut file = planned(candidate, FileStatus::Overwrite);
                file.remote_hash = hash;
                file.remote_commit = commit.map(|c| c.id);
                files.push(file);
            }
            None => files.push(planned(candidate, FileStatus::New)),
        }
    }

    // Same size as on the branch: only the content hash tells unchanged from overwritten.
    let hashed = hash_many(
        to_hash
            .iter()
            .map(|(i, _)| PathBuf::from(&files[*i].local))
            .collect(),
    )
    .await?;
    let mut unreadable = HashSet::new();
    for ((index, remote_hash), result) in to_hash.into_iter().zip(hashed) {
        match result {
            Ok((hash, read)) if read == files[index].size => {
                if remote_hash.as_deref().is_some_and(|r| same_hash(r, &hash)) {
                    files[index].status = FileStatus::Unchanged;
                }
                files[index].hash = Some(hash);
            }
            Ok(_) => {} // It changed while we read it; it will be re-read on upload.
            Err(e) => {
                let file = &files[index];
                refused.push(io_refusal(
                    &file.local,
                    Some(file.remote.clone()),
                    RefusalReason::Unreadable,
                    "read",
                    &e,
                ));
                unreadable.insert(index);
            }
        }
    }
    let mut files: Vec<PlannedFile> = files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !unreadable.contains(i))
        .map(|(_, f)| f)
        .collect();
    files.sort_by(|a, b| a.remote.cmp(&b.remote));
    refused.sort_by(|a, b| a.local.cmp(&b.local));
    excluded.sort_by(|a, b| a.remote.cmp(&b.remote));

    let mut totals = totals(&files, &refused);
    totals.excluded = excluded.len() as u32;
    let default_message = default_message(&files, &request.dest);
    Ok(Plan {
        repo: request.repo.clone(),
        branch: request.branch.clone(),
        dest: request.dest.clone(),
        base_commit,
        files,
        refused,
        excluded,
        notes,
        totals,
        default_message,
        removals: Vec::new(),
    })
}

fn planned(c: Candidate, status: FileStatus) -> PlannedFile {
    PlannedFile {
        local: c.local,
        remote: c.remote,
        size: c.size,
        status,
        hash: None,
        remote_hash: None,
        mtime_ns: c.mtime_ns,
        remote_commit: None,
    }
}

fn totals(files: &[PlannedFile], refused: &[Refusal]) -> PlanTotals {
    let mut t = PlanTotals {
        refused: refused.len() as u32,
        ..PlanTotals::default()
    };
    for f in files {
        match f.status {
            FileStatus::New => {
                t.new_files += 1;
                t.new_bytes += f.size;
            }
            FileStatus::Overwrite => {
                t.overwrite_files += 1;
                t.overwrite_bytes += f.size;
            }
            FileStatus::Unchanged => {
                t.unchanged_files += 1;
                t.unchanged_bytes += f.size;
            }
        }
    }
    t
}

/// "Add 3 files to images: a.png, b.png, c.png" — short, specific, and editable by the user.
pub fn default_message(files: &[PlannedFile], dest: &RemotePath) -> String {
    let sending: Vec<&PlannedFile> = files
        .iter()
        .filter(|f| f.status != FileStatus::Unchanged)
        .collect();
    let verb = if sending.iter().all(|f| f.status == FileStatus::Overwrite) && !sending.is_empty() {
        "Update"
    } else {
        "Add"
    };
    let place = if dest.is_root() {
        String::new()
    } else {
        format!(" to {dest}")
    };
    match sending.len() {
        0 => format!("Upload{place}"),
        1 => format!("{verb} {}", sending[0].remote),
        n => {
            // Name the top-level items under the destination: dropped folders, loose files.
            let mut tops: Vec<&str> = sending
                .iter()
                .filter_map(|f| {
                    let rel = f.remote.as_str().strip_prefix(dest.as_str())?;
                    rel.trim_start_matches('/').split('/').next()
                })
                .collect();
            tops.dedup();
            let mut seen = HashSet::new();
            tops.retain(|t| seen.insert(*t));
            let listed = if tops.len() <= 3 {
                tops.join(", ")
            } else {
                format!("{}, {} and {} more", tops[0], tops[1], tops.len() - 2)
            };
            format!("{verb} {n} files{place}: {listed}")
        }
    }
}

#[cfg(test)]
mod tests;
