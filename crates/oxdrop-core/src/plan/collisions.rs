//! Refusing candidates whose repository paths collide: two sources landing on one path, or a
//! file where another file of the upload needs a folder.

use std::collections::{BTreeMap, HashSet};

use super::walk::{Candidate, refusal};
use super::{Refusal, RefusalReason};
use crate::remote_path::RemotePath;

/// Refuses files whose repository paths collide: the same path twice, or a file where another
/// file needs a folder.
pub(super) fn refuse_collisions(
    candidates: Vec<Candidate>,
    refused: &mut Vec<Refusal>,
) -> Vec<Candidate> {
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
            refused.push(refusal(
                &c.local,
                Some(remote.clone()),
                RefusalReason::DuplicateDestination,
                format!(
                    "Both {} and {} would be uploaded to '{remote}'. Rename one of them, or upload them separately.",
                    c.local,
                    others.join(" and ")
                ),
            ));
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
            refused.push(refusal(
                &c.local,
                Some(c.remote.clone()),
                RefusalReason::PathConflict,
                format!(
                    "'{}' would be both a file and a folder in this upload. Rename the file {} and try again.",
                    c.remote, c.local
                ),
            ));
            false
        } else {
            true
        }
    });
    kept
}
