//! Whose change is on the branch: a planned file goes only when the branch still has what the
//! watch last put there (or exactly the new content). Anything else is someone else's change,
//! which the watch leaves alone and reports rather than overwrites.

use super::status::ConflictKind;
use crate::hash::same_hash;
use crate::plan::{FileStatus, PlannedFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Go,
    Conflict(ConflictKind),
}

/// `committed`: what the watch last put on the branch at this path; `inflight`: what its
/// interrupted upload was putting there (its commit may have landed without the watch knowing).
pub(crate) fn judge(
    file: &PlannedFile,
    committed: Option<&str>,
    inflight: Option<&str>,
) -> Verdict {
    let ours = |theirs: &str| {
        committed.is_some_and(|h| same_hash(h, theirs))
            || inflight.is_some_and(|h| same_hash(h, theirs))
    };
    match file.status {
        // The branch has exactly this content: nothing to overwrite.
        FileStatus::Unchanged => Verdict::Go,
        FileStatus::New if committed.is_some() => Verdict::Conflict(ConflictKind::RemovedOnServer),
        FileStatus::New => Verdict::Go,
        FileStatus::Overwrite => match file.remote_hash.as_deref() {
            Some(h) if ours(h) => Verdict::Go,
            _ if committed.is_none() && inflight.is_none() => {
                Verdict::Conflict(ConflictKind::AddedOnServer)
            }
            _ => Verdict::Conflict(ConflictKind::ChangedOnServer),
        },
    }
}

/// The removal of a file deleted here goes only if the branch still has the watch's content.
pub(crate) fn judge_removal(committed: Option<&str>, on_branch: Option<&str>) -> Removal {
    match (committed, on_branch) {
        (_, None) => Removal::AlreadyGone,
        (Some(ours), Some(theirs)) if same_hash(ours, theirs) => Removal::Remove,
        _ => Removal::Conflict,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    Remove,
    AlreadyGone,
    Conflict,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_path::RemotePath;

    fn file(status: FileStatus, on_branch: Option<&str>) -> PlannedFile {
        PlannedFile {
            local: "/w/a.csv".into(),
            remote: RemotePath::parse("runs/a.csv").unwrap(),
            size: 3,
            status,
            hash: None,
            remote_hash: on_branch.map(str::to_owned),
            mtime_ns: None,
            remote_commit: on_branch.map(|_| "c1".to_owned()),
        }
    }

    #[test]
    fn the_watchs_own_content_on_the_branch_may_be_replaced() {
        let f = file(FileStatus::Overwrite, Some("0abc"));
        assert_eq!(
            judge(&f, Some("abc"), None),
            Verdict::Go,
            "hashes compare as numbers"
        );
        // The commit of an interrupted upload landed, the watch did not hear of it.
        assert_eq!(judge(&f, Some("old"), Some("abc")), Verdict::Go);
    }

    #[test]
    fn someone_elses_change_is_a_conflict() {
        let changed = file(FileStatus::Overwrite, Some("theirs"));
        assert_eq!(
            judge(&changed, Some("ours"), None),
            Verdict::Conflict(ConflictKind::ChangedOnServer)
        );
        assert_eq!(
            judge(&changed, None, None),
            Verdict::Conflict(ConflictKind::AddedOnServer),
            "created where the watch would create one"
        );
        let removed = file(FileStatus::New, None);
        assert_eq!(
            judge(&removed, Some("ours"), None),
            Verdict::Conflict(ConflictKind::RemovedOnServer)
        );
    }

    #[test]
    fn new_and_identical_files_go() {
        assert_eq!(judge(&file(FileStatus::New, None), None, None), Verdict::Go);
        let same = file(FileStatus::Unchanged, Some("theirs"));
        assert_eq!(judge(&same, Some("ours"), None), Verdict::Go);
    }

    #[test]
    fn removals_only_of_the_watchs_own_content() {
        assert_eq!(judge_removal(Some("a1"), Some("a1")), Removal::Remove);
        assert_eq!(judge_removal(Some("a1"), None), Removal::AlreadyGone);
        assert_eq!(judge_removal(Some("a1"), Some("b2")), Removal::Conflict);
        assert_eq!(judge_removal(None, Some("b2")), Removal::Conflict);
    }
}
