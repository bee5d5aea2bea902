//! Walking the local side: every source file or folder becomes candidates (files with their
//! repository path), refusals (what cannot be uploaded, and why) or exclusions (what is left out
//! on purpose: links leading outside the dropped item, clutter, ignored files).

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::contents::Only;
use super::exclude::{ExcludeRules, link_outside};
use super::{Exclusion, Refusal, RefusalReason};
use crate::error::describe_io_error;
use crate::fs::mtime_ns;
use crate::remote_path::RemotePath;

/// A file found on disk, before comparing with the branch.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub local: String,
    pub remote: RemotePath,
    pub size: u64,
    pub mtime_ns: Option<u128>,
}

pub(super) fn refusal(
    local: impl AsRef<Path>,
    remote: Option<RemotePath>,
    reason: RefusalReason,
    message: String,
) -> Refusal {
    Refusal {
        local: local.as_ref().display().to_string(),
        remote,
        reason,
        message,
    }
}

/// What walking the sources found.
#[derive(Debug, Default)]
pub(super) struct Walked {
    pub found: Vec<Candidate>,
    pub refused: Vec<Refusal>,
    pub excluded: Vec<Exclusion>,
}

/// Walks every source without recursion (very deep folders cannot overflow the stack).
pub(super) fn walk_sources(sources: &[PathBuf], dest: &RemotePath, rules: &ExcludeRules) -> Walked {
    let mut walked = Walked::default();
    for source in sources {
        let name = match source.file_name() {
            Some(n) => n.to_owned(),
            None => match std::fs::canonicalize(source)
                .ok()
                .and_then(|p| p.file_name().map(ToOwned::to_owned))
            {
                Some(n) => n,
                None => {
                    walked.refused.push(refusal(source, None, RefusalReason::NameNotAllowed,
                        format!("{} has no name of its own (is it a whole disk?). Choose the files or folders inside it.", source.display())));
                    continue;
                }
            },
        };
        let Some(name) = name.to_str() else {
            walked.refused.push(refusal(
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
                walked.refused.push(refusal(
                    source,
                    None,
                    RefusalReason::NameNotAllowed,
                    e.message,
                ));
                continue;
            }
        };
        walk_one(source, remote, rules, &Only::default(), &mut walked);
    }
    walked
}

/// Walks what is inside `folder` straight into `dest` (the folder's own name is not used), as a
/// watched folder is uploaded: links must stay inside it, and clutter and ignore rules apply
/// to everything in it.
pub(super) fn walk_contents(
    folder: &Path,
    dest: &RemotePath,
    only: &Only,
    rules: &ExcludeRules,
) -> Walked {
    let mut walked = Walked::default();
    walk_one(folder, dest.clone(), rules, only, &mut walked);
    walked
}

fn not_text_message(path: &Path) -> String {
    format!(
        "The name of {} is not valid text (UTF-8), so it cannot be stored in a repository. Rename it and try again.",
        path.display()
    )
}

/// A refusal for an I/O error: "Could not <what> <path>: <reason>."
pub(super) fn io_refusal(
    local: impl AsRef<Path>,
    remote: Option<RemotePath>,
    reason: RefusalReason,
    what: &str,
    e: &std::io::Error,
) -> Refusal {
    let local = local.as_ref();
    refusal(
        local,
        remote,
        reason,
        format!(
            "Could not {what} {}: {}.",
            local.display(),
            describe_io_error(e)
        ),
    )
}

/// Something still to look at: a source, or an entry of a folder being walked.
struct Pending {
    local: PathBuf,
    remote: RemotePath,
    /// (device, inode) of every folder above, to spot links that loop back.
    ancestors: Rc<Vec<(u64, u64)>>,
}

fn walk_one(
    source: &Path,
    remote: RemotePath,
    rules: &ExcludeRules,
    only: &Only,
    walked: &mut Walked,
) {
    // Links must stay inside this. A dropped link was the user's own choice: its target is the
    // root. (Not resolvable: the source itself is refused below.)
    let root = std::fs::canonicalize(source).ok();
    let Walked {
        found,
        refused,
        excluded,
    } = walked;
    let mut stack = vec![Pending {
        local: source.to_path_buf(),
        remote,
        ancestors: Rc::new(Vec::new()),
    }];
    while let Some(item) = stack.pop() {
        let (meta, is_link) = match stat_following_links(&item) {
            Ok(m) => m,
            Err(r) => {
                refused.push(r);
                continue;
            }
        };
        if let Some(e) = leave_out(&item, meta.is_dir(), is_link, root.as_deref(), rules) {
            excluded.push(e);
            continue;
        }
        if meta.is_dir() {
            walk_dir(item, &meta, only, &mut stack, refused);
        } else if meta.is_file() {
            match add_file(item, &meta) {
                Ok(c) => found.push(c),
                Err(r) => refused.push(r),
            }
        } else {
            refused.push(refuse_special(item, &meta));
        }
    }
}

/// Why an item is left out on purpose, if it is: an ignore rule or clutter (by its name), or a
/// link whose target is outside `root` (unless links are followed).
fn leave_out(
    item: &Pending,
    is_dir: bool,
    is_link: bool,
    root: Option<&Path>,
    rules: &ExcludeRules,
) -> Option<Exclusion> {
    let dropped = item.ancestors.is_empty();
    if let Some(e) = rules.by_name(&item.local, &item.remote, is_dir, dropped) {
        return Some(e);
    }
    if dropped || !is_link || rules.follow_links {
        return None;
    }
    let target = std::fs::canonicalize(&item.local).ok()?;
    let inside = root.is_some_and(|root| target.starts_with(root));
    (!inside).then(|| link_outside(&item.local, &item.remote, is_dir, &target))
}

/// What the item is, links followed, and whether it is a link; a missing item or a broken or
/// looping link is refused.
fn stat_following_links(item: &Pending) -> Result<(Metadata, bool), Refusal> {
    let local = &item.local;
    let link_meta = std::fs::symlink_metadata(local).map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::NotFound {
            RefusalReason::Missing
        } else {
            RefusalReason::Unreadable
        };
        io_refusal(local, Some(item.remote.clone()), reason, "read", &e)
    })?;
    if !link_meta.file_type().is_symlink() {
        return Ok((link_meta, false));
    }
    let followed = std::fs::metadata(local).map_err(|e| {
        let looped = e.raw_os_error() == Some(40); // ELOOP
        let (reason, why) = if looped {
            (
                RefusalReason::SymlinkLoop,
                "it is a link that loops back on itself",
            )
        } else {
            (
                RefusalReason::BrokenLink,
                "it is a link to something that does not exist",
            )
        };
        refusal(
            local,
            Some(item.remote.clone()),
            reason,
            format!("Skipped {}: {why}.", local.display()),
        )
    })?;
    Ok((followed, true))
}

/// Puts a folder's entries on the stack, in name order, unless the folder loops back on one
/// above it.
fn walk_dir(
    item: Pending,
    meta: &Metadata,
    only: &Only,
    stack: &mut Vec<Pending>,
    refused: &mut Vec<Refusal>,
) {
    let Pending {
        local,
        remote,
        ancestors,
    } = item;
    let id = file_id(meta);
    if ancestors.contains(&id) {
        refused.push(refusal(&local, Some(remote), RefusalReason::SymlinkLoop,
            format!("Skipped {}: it is a link back to a folder that contains it, which would repeat forever.", local.display())));
        return;
    }
    let entries = match std::fs::read_dir(&local) {
        Ok(rd) => rd,
        Err(e) => {
            let why = io_refusal(
                &local,
                Some(remote),
                RefusalReason::Unreadable,
                "open the folder",
                &e,
            );
            refused.push(why);
            return;
        }
    };
    let mut children: Vec<(std::ffi::OsString, PathBuf)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push((entry.file_name(), entry.path())),
            Err(e) => refused.push(io_refusal(
                &local,
                Some(remote.clone()),
                RefusalReason::Unreadable,
                "list everything in",
                &e,
            )),
        }
    }
    // Reverse-sorted onto the stack so files come out in name order.
    children.sort_by(|a, b| b.0.cmp(&a.0));
    let mut below = (*ancestors).clone();
    below.push(id);
    let below = Rc::new(below);
    for (name, path) in children {
        let Some(name) = name.to_str() else {
            // Not text: it cannot be among the paths asked for.
            if only.restricted() {
                continue;
            }
            refused.push(refusal(
                &path,
                None,
                RefusalReason::NameNotText,
                not_text_message(&path),
            ));
            continue;
        };
        match remote.join(name) {
            Ok(child_remote) if !only.keeps(&child_remote) => {}
            Ok(child_remote) => stack.push(Pending {
                local: path,
                remote: child_remote,
                ancestors: below.clone(),
            }),
            Err(_) if only.restricted() => {}
            Err(e) => refused.push(refusal(
                &path,
                None,
                RefusalReason::NameNotAllowed,
                format!("Skipped {}: {}", path.display(), e.message),
            )),
        }
    }
}

/// A regular file: a candidate if its name is text and it can be opened.
fn add_file(item: Pending, meta: &Metadata) -> Result<Candidate, Refusal> {
    let Pending { local, remote, .. } = item;
    let Some(local_text) = local.to_str() else {
        return Err(refusal(
            &local,
            Some(remote),
            RefusalReason::NameNotText,
            not_text_message(&local),
        ));
    };
    // Opening now finds unreadable files before the upload starts.
    if let Err(e) = std::fs::File::open(&local) {
        return Err(io_refusal(
            &local,
            Some(remote),
            RefusalReason::Unreadable,
            "read",
            &e,
        ));
    }
    Ok(Candidate {
        local: local_text.to_owned(),
        remote,
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
    })
}

/// A pipe, socket or device has no content to upload.
fn refuse_special(item: Pending, meta: &Metadata) -> Refusal {
    refusal(
        &item.local,
        Some(item.remote),
        RefusalReason::SpecialFile,
        format!(
            "Skipped {}: it is {}, not a regular file, so it has no content to upload.",
            item.local.display(),
            special_kind(meta)
        ),
    )
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> (u64, u64) {
    (0, 0)
}

fn special_kind(meta: &Metadata) -> &'static str {
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
