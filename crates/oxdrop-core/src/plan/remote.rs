//! The branch side: what the branch already has where the plan would put files, and the content
//! hashes that tell an unchanged file from an overwritten one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::hash_file;
use crate::model::{Commit, DirEntry};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum RemoteKind {
    File {
        size: u64,
        hash: Option<String>,
    },
    Dir,
    /// The path is below something that is a file on the branch.
    UnderFile(String),
}

/// The parts of the branch's tree the plan touches at one revision: every folder that holds a
/// planned file, listed once (pages included).
pub(super) struct RemoteTree {
    /// folder → its entries; a folder absent from the branch is not here.
    dirs: HashMap<String, Vec<DirEntry>>,
    /// Paths that are files on the branch but are needed as folders.
    file_blockers: HashSet<String>,
}

impl RemoteTree {
    /// Lists what `files` need at `revision` (a branch or a commit).
    pub(super) async fn load(
        client: &OxenClient,
        repo: &RepoRef,
        revision: &str,
        files: impl Iterator<Item = &RemotePath>,
    ) -> Result<RemoteTree> {
        let mut needed: Vec<String> = files
            .flat_map(|f| {
                let parent = f.parent();
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
                    let entries = match client.list_dir_all(repo, revision, &path).await {
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

    pub(super) fn lookup(&self, path: &RemotePath) -> Option<RemoteKind> {
        if let Some(blocker) = path.ancestors().find(|a| self.file_blockers.contains(*a)) {
            return Some(RemoteKind::UnderFile(blocker.to_owned()));
        }
        self.kind_in_parent(path.as_str())
    }

    /// The last commit that changed `path`: its own, or, when it is not there, that of the
    /// nearest folder above it that is. `None` for the top level, which no listing describes.
    pub(super) fn latest_commit(&self, path: &RemotePath) -> Option<Commit> {
        std::iter::once(path.as_str())
            .chain(path.ancestors().collect::<Vec<_>>().into_iter().rev())
            .filter(|p| !p.is_empty())
            .find_map(|p| {
                let (parent, name) = p.rsplit_once('/').unwrap_or(("", p));
                let entry = self.dirs.get(parent)?.iter().find(|e| e.name == name)?;
                entry.latest_commit.clone()
            })
    }
}

/// Hashes files on blocking threads, a few at a time, preserving order.
pub(crate) async fn hash_many(paths: Vec<PathBuf>) -> Result<Vec<std::io::Result<(String, u64)>>> {
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
