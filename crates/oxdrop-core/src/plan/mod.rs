//! The plan: what an upload will do, decided before a single byte is sent.
//!
//! Local files and folders are walked (folders keep their structure and their own name), each file
//! gets its repository path and size, and is compared with the branch: new, unchanged (same
//! content) or overwritten. Whatever cannot be uploaded is refused with the reason, and the rest
//! of the plan goes ahead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result, describe_io_error};
use crate::fs::mtime_ns;
use crate::hash::{hash_file, same_hash};
use crate::model::DirEntry;
use crate::remote_path::RemotePath;
use crate::repo_ref::{RepoRef, check_branch_name};

/// What the caller wants uploaded, and where.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PlanRequest {
    pub repo: RepoRef,
    pub branch: String,
    /// Folder in the repository; empty for the top level.
    pub dest: RemotePath,
    /// Local files and folders. Folders are uploaded with their own name, like a copy.
    #[ts(type = "string[]")]
    pub sources: Vec<PathBuf>,
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
    /// Modification time seen while planning (ns since the epoch), to notice later edits.
    #[ts(skip)]
    #[serde(default)]
    pub mtime_ns: Option<u128>,
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
    pub totals: PlanTotals,
    /// A commit message describing the files, offered as the default.
    pub default_message: String,
}

impl Plan {
    /// Files that will be sent (new or overwritten).
    pub fn to_send(&self) -> impl Iterator<Item = (usize, &PlannedFile)> {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.status != FileStatus::Unchanged)
    }
}

/// A file found on disk, before comparing with the branch.
#[derive(Debug, Clone)]
struct Candidate {
    local: String,
    remote: RemotePath,
    size: u64,
    mtime_ns: Option<u128>,
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

    let sources = request.sources.clone();
    let dest = request.dest.clone();
    let (candidates, mut refused) =
        tokio::task::spawn_blocking(move || walk_sources(&sources, &dest))
            .await
            .map_err(Error::internal)?;
    let candidates = refuse_collisions(candidates, &mut refused);

    let remote = match &base_commit {
        Some(_) => {
            let tree = RemoteTree::load(client, request, &candidates).await?;
            Some(tree)
        }
        None => None,
    };

    let mut files = Vec::with_capacity(candidates.len());
    let mut to_hash = Vec::new();
    for candidate in candidates {
        let existing = remote.as_ref().and_then(|t| t.lookup(&candidate.remote));
        match existing {
            Some(RemoteKind::Dir) => refused.push(Refusal {
                local: candidate.local.clone(),
                remote: Some(candidate.remote.clone()),
                reason: RefusalReason::PathConflict,
                message: format!(
                    "The repository already has a folder at '{}', so this file cannot go there. Rename the file or choose another destination.",
                    candidate.remote
                ),
            }),
            Some(RemoteKind::UnderFile(file)) => refused.push(Refusal {
                local: candidate.local.clone(),
                remote: Some(candidate.remote.clone()),
                reason: RefusalReason::PathConflict,
                message: format!(
                    "The repository has a file named '{file}' where this upload needs a folder. Rename it or choose another destination."
                ),
            }),
            Some(RemoteKind::File { size, hash }) if size == candidate.size => {
                to_hash.push((files.len(), hash));
                files.push(planned(candidate, FileStatus::Overwrite));
            }
            Some(RemoteKind::File { .. }) => files.push(planned(candidate, FileStatus::Overwrite)),
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
                refused.push(Refusal {
                    local: file.local.clone(),
                    remote: Some(file.remote.clone()),
                    reason: RefusalReason::Unreadable,
                    message: format!("Could not read {}: {}.", file.local, describe_io_error(&e)),
                });
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

    let totals = totals(&files, &refused);
    let default_message = default_message(&files, &request.dest);
    Ok(Plan {
        repo: request.repo.clone(),
        branch: request.branch.clone(),
        dest: request.dest.clone(),
        base_commit,
        files,
        refused,
        totals,
        default_message,
    })
}

fn planned(c: Candidate, status: FileStatus) -> PlannedFile {
    PlannedFile {
        local: c.local,
        remote: c.remote,
        size: c.size,
        status,
        hash: None,
        mtime_ns: c.mtime_ns,
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

// ----- walking the local side -------------------------------------------------------------------

fn refusal(
    local: &Path,
    remote: Option<RemotePath>,
    reason: RefusalReason,
    message: String,
) -> Refusal {
    Refusal {
        local: local.display().to_string(),
        remote,
        reason,
        message,
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "not a regular file"
}

/// Walks every source without recursion (very deep folders cannot overflow the stack).
fn walk_sources(sources: &[PathBuf], dest: &RemotePath) -> (Vec<Candidate>, Vec<Refusal>) {
    let mut found = Vec::new();
    let mut refused = Vec::new();
    for source in sources {
        let name = match source.file_name() {
            Some(n) => n.to_owned(),
            None => match std::fs::canonicalize(source)
                .ok()
                .and_then(|p| p.file_name().map(ToOwned::to_owned))
            {
                Some(n) => n,
                None => {
                    refused.push(refusal(source, None, RefusalReason::NameNotAllowed,
                        format!("{} has no name of its own (is it a whole disk?). Choose the files or folders inside it.", source.display())));
                    continue;
                }
            },
        };
        let Some(name) = name.to_str() else {
            refused.push(refusal(
                source,
                None,
                RefusalReason::NameNotText,
                not_text_message(source),
            ));
            continue;
        };
        let remote = match dest.join(name) {
            Ok(r) => r,
            Err(e) => {
                refused.push(refusal(
                    source,
                    None,
                    RefusalReason::NameNotAllowed,
                    e.message,
                ));
                continue;
            }
        };
        walk_one(source, remote, &mut found, &mut refused);
    }
    (found, refused)
}

fn not_text_message(path: &Path) -> String {
    format!(
        "The name of {} is not valid text (UTF-8), so it cannot be stored in a repository. Rename it and try again.",
        path.display()
    )
}

struct Pending {
    local: PathBuf,
    remote: RemotePath,
    /// (device, inode) of every folder above, to spot links that loop back.
    ancestors: std::rc::Rc<Vec<(u64, u64)>>,
}

fn walk_one(
    source: &Path,
    remote: RemotePath,
    found: &mut Vec<Candidate>,
    refused: &mut Vec<Refusal>,
) {
    let mut stack = vec![Pending {
        local: source.to_path_buf(),
        remote,
        ancestors: std::rc::Rc::new(Vec::new()),
    }];
    while let Some(Pending {
        local,
        remote,
        ancestors,
    }) = stack.pop()
    {
        let link_meta = match std::fs::symlink_metadata(&local) {
            Ok(m) => m,
            Err(e) => {
                let reason = if e.kind() == std::io::ErrorKind::NotFound {
                    RefusalReason::Missing
                } else {
                    RefusalReason::Unreadable
                };
                refused.push(refusal(
                    &local,
                    Some(remote),
                    reason,
                    format!(
                        "Could not read {}: {}.",
                        local.display(),
                        describe_io_error(&e)
                    ),
                ));
                continue;
            }
        };
        let meta = if link_meta.file_type().is_symlink() {
            match std::fs::metadata(&local) {
                Ok(m) => m,
                Err(e) => {
                    let looped = e.raw_os_error() == Some(40); // ELOOP
                    let (reason, why) = if looped {
                        (
                            RefusalReason::SymlinkLoop,
                            "it is a link that loops back on itself".to_owned(),
                        )
                    } else {
                        (
                            RefusalReason::BrokenLink,
                            "it is a link to something that does not exist".to_owned(),
                        )
                    };
                    refused.push(refusal(
                        &local,
                        Some(remote),
                        reason,
                        format!("Skipped {}: {why}.", local.display()),
                    ));
                    continue;
                }
            }
        } else {
            link_meta
        };

        if meta.is_dir() {
            let id = file_id(&meta);
            if ancestors.contains(&id) {
                refused.push(refusal(&local, Some(remote), RefusalReason::SymlinkLoop,
                    format!("Skipped {}: it is a link back to a folder that contains it, which would repeat forever.", local.display())));
                continue;
            }
            let entries = match std::fs::read_dir(&local) {
                Ok(rd) => rd,
                Err(e) => {
                    refused.push(refusal(
                        &local,
                        Some(remote),
                        RefusalReason::Unreadable,
                        format!(
                            "Could not open the folder {}: {}.",
                            local.display(),
                            describe_io_error(&e)
                        ),
                    ));
                    continue;
                }
            };
            let mut children: Vec<(std::ffi::OsString, PathBuf)> = Vec::new();
            for entry in entries {
                match entry {
                    Ok(entry) => children.push((entry.file_name(), entry.path())),
                    Err(e) => refused.push(refusal(
                        &local,
                        Some(remote.clone()),
                        RefusalReason::Unreadable,
                        format!(
                            "Could not list everything in {}: {}.",
                            local.display(),
                            describe_io_error(&e)
                        ),
                    )),
                }
            }
            // Reverse-sorted onto the stack so files come out in name order.
            children.sort_by(|a, b| b.0.cmp(&a.0));
            let mut below = (*ancestors).clone();
            below.push(id);
            let below = std::rc::Rc::new(below);
            for (name, path) in children {
                let Some(name) = name.to_str() else {
                    refused.push(refusal(
                        &path,
                        None,
                        RefusalReason::NameNotText,
                        not_text_message(&path),
                    ));
                    continue;
                };
                match remote.join(name) {
                    Ok(child_remote) => stack.push(Pending {
                        local: path,
                        remote: child_remote,
                        ancestors: below.clone(),
                    }),
                    Err(e) => refused.push(refusal(
                        &path,
                        None,
                        RefusalReason::NameNotAllowed,
                        format!("Skipped {}: {}", path.display(), e.message),
                    )),
                }
            }
        } else if meta.is_file() {
            let Some(local_text) = local.to_str() else {
                refused.push(refusal(
                    &local,
                    Some(remote),
                    RefusalReason::NameNotText,
                    not_text_message(&local),
                ));
                continue;
            };
            // Opening now finds unreadable files before the upload starts.
            if let Err(e) = std::fs::File::open(&local) {
                refused.push(refusal(
                    &local,
                    Some(remote),
                    RefusalReason::Unreadable,
                    format!(
                        "Could not read {}: {}.",
                        local.display(),
                        describe_io_error(&e)
                    ),
                ));
                continue;
            }
            found.push(Candidate {
                local: local_text.to_owned(),
                remote,
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
            });
        } else {
            refused.push(refusal(
                &local,
                Some(remote),
                RefusalReason::SpecialFile,
                format!(
                    "Skipped {}: it is {}, not a regular file, so it has no content to upload.",
                    local.display(),
                    special_kind(&meta)
                ),
            ));
        }
    }
}

/// Refuses files whose repository paths collide: the same path twice, or a file where another
/// file needs a folder.
fn refuse_collisions(candidates: Vec<Candidate>, refused: &mut Vec<Refusal>) -> Vec<Candidate> {
    let mut by_remote: BTreeMap<RemotePath, Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        by_remote.entry(c.remote.clone()).or_default().push(c);
    }
    let mut kept: Vec<Candidate> = Vec::with_capacity(by_remote.len());
    for (remote, group) in by_remote {
        if group.len() == 1 {
            kept.extend(group);
            continue;
        }
        let names: Vec<String> = group.iter().map(|c| c.local.clone()).collect();
        for c in group {
            let others: Vec<&str> = names
                .iter()
                .filter(|n| **n != c.local)
                .map(String::as_str)
                .collect();
            refused.push(Refusal {
                local: c.local.clone(),
                remote: Some(remote.clone()),
                reason: RefusalReason::DuplicateDestination,
                message: format!(
                    "Both {} and {} would be uploaded to '{remote}'. Rename one of them, or upload them separately.",
                    c.local,
                    others.join(" and ")
                ),
            });
        }
    }
    // A kept file whose path is also a folder of another kept file.
    let folders: HashSet<&str> = kept.iter().flat_map(|c| c.remote.ancestors()).collect();
    let clashing: HashSet<RemotePath> = kept
        .iter()
        .filter(|c| folders.contains(c.remote.as_str()))
        .map(|c| c.remote.clone())
        .collect();
    if clashing.is_empty() {
        return kept;
    }
    kept.retain(|c| {
        if clashing.contains(&c.remote) {
            refused.push(Refusal {
                local: c.local.clone(),
                remote: Some(c.remote.clone()),
                reason: RefusalReason::PathConflict,
                message: format!(
                    "'{}' would be both a file and a folder in this upload. Rename the file {} and try again.",
                    c.remote, c.local
                ),
            });
            false
        } else {
            true
        }
    });
    kept
}

// ----- the branch side --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum RemoteKind {
    File {
        size: u64,
        hash: Option<String>,
    },
    Dir,
    /// The path is below something that is a file on the branch.
    UnderFile(String),
}

/// The parts of the branch's tree the plan touches: every folder that holds a planned file,
/// listed once (pages included).
struct RemoteTree {
    /// folder → its entries; a folder absent from the branch is not here.
    dirs: HashMap<String, Vec<DirEntry>>,
    /// Paths that are files on the branch but are needed as folders.
    file_blockers: HashSet<String>,
}

impl RemoteTree {
    async fn load(
        client: &OxenClient,
        request: &PlanRequest,
        files: &[Candidate],
    ) -> Result<RemoteTree> {
        let mut needed: Vec<String> = files
            .iter()
            .flat_map(|f| {
                let parent = f.remote.parent();
                let mut chain: Vec<String> = parent.ancestors().map(str::to_owned).collect();
                chain.push(parent.as_str().to_owned());
                chain
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        needed.push(String::new());
        needed.sort_by_key(|d| {
            (
                d.matches('/').count() + usize::from(!d.is_empty()),
                d.clone(),
            )
        });
        needed.dedup();

        let mut tree = RemoteTree {
            dirs: HashMap::new(),
            file_blockers: HashSet::new(),
        };
        // Level by level: a folder is listed only if its parent's listing shows it exists.
        let mut by_depth: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for d in needed {
            let depth = if d.is_empty() {
                0
            } else {
                d.matches('/').count() + 1
            };
            by_depth.entry(depth).or_default().push(d);
        }
        for (_, level) in by_depth {
            let to_list: Vec<String> = level
                .into_iter()
                .filter(|d| match tree.kind_in_parent(d) {
                    Some(RemoteKind::Dir) => true,
                    Some(RemoteKind::File { .. }) => {
                        tree.file_blockers.insert(d.clone());
                        false
                    }
                    _ => false,
                })
                .collect();
            let listed: Vec<(String, Vec<DirEntry>)> = stream::iter(to_list)
                .map(|d| async move {
                    let path = RemotePath::parse(&d)?;
                    let entries = match client
                        .list_dir_all(&request.repo, &request.branch, &path)
                        .await
                    {
                        Ok(entries) => entries,
                        // The server answers 404 for a tree with nothing in it (a branch whose
                        // only commit is the server's empty "Initialized Repo"): empty, not an error.
                        Err(e) if e.code == ErrorCode::PathNotFound => Vec::new(),
                        Err(e) => return Err(e),
                    };
                    Ok::<_, Error>((d, entries))
                })
                .buffer_unordered(8)
                .try_collect()
                .await?;
            tree.dirs.extend(listed);
        }
        Ok(tree)
    }

    /// What the parent listing says about `path` (root is always a folder).
    fn kind_in_parent(&self, path: &str) -> Option<RemoteKind> {
        if path.is_empty() {
            return Some(RemoteKind::Dir);
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let entry = self.dirs.get(parent)?.iter().find(|e| e.name == name)?;
        Some(if entry.is_dir {
            RemoteKind::Dir
        } else {
            RemoteKind::File {
                size: entry.size,
                hash: entry.hash.clone(),
            }
        })
    }

    fn lookup(&self, path: &RemotePath) -> Option<RemoteKind> {
        if let Some(blocker) = path.ancestors().find(|a| self.file_blockers.contains(*a)) {
            return Some(RemoteKind::UnderFile(blocker.to_owned()));
        }
        self.kind_in_parent(path.as_str())
    }
}

/// Hashes files on blocking threads, a few at a time, preserving order.
async fn hash_many(paths: Vec<PathBuf>) -> Result<Vec<std::io::Result<(String, u64)>>> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    stream::iter(paths)
        .map(|p| async move {
            tokio::task::spawn_blocking(move || hash_file(&p))
                .await
                .map_err(Error::internal)
        })
        .buffered(workers)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests;
