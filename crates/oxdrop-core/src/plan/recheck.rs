//! The review is a promise: when the branch moved after it, the files an upload sends are
//! compared again with the branch as it is now, and any that someone changed are named, with the
//! commits that changed them.

use std::collections::HashSet;

use super::remote::{RemoteKind, RemoteTree};
use super::{FileStatus, Plan, PlannedFile};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::hash::same_hash;
use crate::model::{BranchChange, ChangedOnBranch, Commit};

/// The files `plan` sends whose state at `revision` (a commit on its branch) is not what the
/// review saw, in the plan's order. Empty when the branch moved without touching them.
pub async fn changed_since_review(
    client: &OxenClient,
    plan: &Plan,
    revision: &str,
) -> Result<Vec<ChangedOnBranch>> {
    let sending: Vec<&PlannedFile> = plan.to_send().map(|(_, f)| f).collect();
    let tree = RemoteTree::load(
        client,
        &plan.repo,
        revision,
        sending.iter().map(|f| &f.remote),
    )
    .await?;
    let mut changed = Vec::new();
    let mut revision_commit: Option<Option<Commit>> = None;
    for file in sending {
        let Some(change) = change_of(file, tree.lookup(&file.remote)) else {
            continue;
        };
        let commit = match tree.latest_commit(&file.remote) {
            Some(c) => Some(c),
            // Only the top level is above it: the newest commit changed the top level.
            None => match &revision_commit {
                Some(c) => c.clone(),
                None => {
                    let newest = client.commits(&plan.repo, revision, 1).await?;
                    revision_commit.insert(newest.into_iter().next()).clone()
                }
            },
        };
        changed.push(ChangedOnBranch {
            path: file.remote.clone(),
            change,
            commit,
        });
    }
    Ok(changed)
}

/// What happened to `file`'s path, judged by what the review saw there; `None` if nothing did.
fn change_of(file: &PlannedFile, now: Option<RemoteKind>) -> Option<BranchChange> {
    match (file.status, now) {
        (_, Some(RemoteKind::Dir | RemoteKind::UnderFile(_))) => Some(BranchChange::Blocked),
        (FileStatus::New, None) => None,
        (FileStatus::New, Some(RemoteKind::File { .. })) => Some(BranchChange::Added),
        (_, None) => Some(BranchChange::Removed),
        // A hash not known on either side (a journal from before hashes were kept) cannot tell.
        (_, Some(RemoteKind::File { hash, .. })) => match (&file.remote_hash, hash) {
            (Some(seen), Some(now)) if !same_hash(seen, &now) => Some(BranchChange::Modified),
            _ => None,
        },
    }
}

/// The error that stops an upload whose review no longer holds: it names the files (a few, then
/// how many more) and the commits that changed them, and carries the whole list.
pub fn review_outdated(plan: &Plan, changed: Vec<ChangedOnBranch>) -> Error {
    let files = listed(changed.iter().map(|c| c.path.to_string()).collect());
    let mut seen = HashSet::new();
    let commits: Vec<String> = changed
        .iter()
        .filter_map(|c| c.commit.as_ref())
        .filter(|c| seen.insert(c.id.clone()))
        .map(describe_commit)
        .collect();
    let by = match commits.len() {
        0 => String::new(),
        1 => format!(", in commit {}", commits[0]),
        _ => format!(", in commits {}", listed(commits)),
    };
    let mut err = Error::new(
        ErrorCode::ReviewOutdated,
        format!(
            "Someone changed {files} on '{}' after you reviewed this upload{by}. Nothing was \
             committed. Review the upload again to see the branch as it is now, then upload.",
            plan.branch
        ),
    )
    .retryable(false);
    err.changed = Some(changed);
    err
}

/// `1a2b3c4d5e by Ada ("Fix the labels")`.
fn describe_commit(c: &Commit) -> String {
    let short: String = c.id.chars().take(10).collect();
    let by = if c.author.is_empty() {
        String::new()
    } else {
        format!(" by {}", c.author)
    };
    let what = match c.message.lines().next().map(str::trim) {
        Some(m) if !m.is_empty() => format!(" (\"{m}\")"),
        _ => String::new(),
    };
    format!("{short}{by}{what}")
}

/// "a", "a and b", "a, b and c", "a, b, c and 4 more".
fn listed(mut items: Vec<String>) -> String {
    const SHOWN: usize = 3;
    if items.len() > SHOWN + 1 {
        let more = items.len() - SHOWN;
        items.truncate(SHOWN);
        return format!("{} and {more} more", items.join(", "));
    }
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_path::RemotePath;

    fn file(status: FileStatus, remote_hash: Option<&str>) -> PlannedFile {
        PlannedFile {
            local: "/l/a.txt".into(),
            remote: RemotePath::parse("a.txt").unwrap(),
            size: 3,
            status,
            hash: None,
            remote_hash: remote_hash.map(str::to_owned),
            mtime_ns: None,
            remote_commit: None,
        }
    }

    fn on_branch(hash: &str) -> Option<RemoteKind> {
        Some(RemoteKind::File {
            size: 3,
            hash: Some(hash.into()),
        })
    }

    #[test]
    fn each_kind_of_change_against_what_the_review_saw() {
        use BranchChange::*;
        use FileStatus::{New, Overwrite};
        let cases = [
            (file(New, None), None, None),
            (file(New, None), on_branch("aa"), Some(Added)),
            (file(New, None), Some(RemoteKind::Dir), Some(Blocked)),
            (file(Overwrite, Some("aa")), on_branch("aa"), None),
            (file(Overwrite, Some("aa")), on_branch("00aa"), None),
            (file(Overwrite, Some("aa")), on_branch("bb"), Some(Modified)),
            (file(Overwrite, Some("aa")), None, Some(Removed)),
            (
                file(Overwrite, Some("aa")),
                Some(RemoteKind::UnderFile("x".into())),
                Some(Blocked),
            ),
            (file(Overwrite, None), on_branch("bb"), None),
        ];
        for (f, now, want) in cases {
            assert_eq!(change_of(&f, now.clone()), want, "{f:?} vs {now:?}");
        }
    }

    #[test]
    fn lists_read_well() {
        let items = |n: usize| (1..=n).map(|i| format!("f{i}")).collect::<Vec<_>>();
        assert_eq!(listed(items(1)), "f1");
        assert_eq!(listed(items(2)), "f1 and f2");
        assert_eq!(listed(items(4)), "f1, f2, f3 and f4");
        assert_eq!(listed(items(9)), "f1, f2, f3 and 6 more");
        let c = Commit {
            id: "0123456789abcdef".into(),
            message: "Fix the labels\n\nlong text".into(),
            author: "Ada".into(),
            email: String::new(),
            timestamp: String::new(),
            parent_ids: vec![],
        };
        assert_eq!(
            describe_commit(&c),
            "0123456789 by Ada (\"Fix the labels\")"
        );
    }
}
