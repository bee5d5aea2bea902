//! A watched folder's plan: what is inside the one source folder goes straight into the
//! destination, and only the paths that changed are walked.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Plan, PlanRequest, PlannedFile, totals};
use crate::error::{Error, ErrorCode, Result};
use crate::remote_path::RemotePath;

/// Plan what is inside the one source folder rather than the folder under its own name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderContents {
    /// Only these repository paths (the files a watch saw change); everything when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<RemotePath>>,
}

impl Plan {
    /// Keeps only the files `keep` says, with the totals to match (a watch leaves out files
    /// someone else changed on the branch).
    pub fn retain_files(&mut self, keep: impl FnMut(&PlannedFile) -> bool) {
        self.files.retain(keep);
        let excluded = self.totals.excluded;
        self.totals = totals(&self.files, &self.refused);
        self.totals.excluded = excluded;
    }
}

/// What a walk keeps, from a request: `None` for a plain upload (sources under their own names).
pub(super) fn only_for(request: &PlanRequest) -> Result<Option<Only>> {
    Ok(match (&request.contents, request.sources.as_slice()) {
        (None, _) => None,
        (Some(c), [_]) => Some(c.only.as_ref().map_or_else(Only::default, Only::paths)),
        (Some(_), _) => {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "A folder's contents are planned from exactly one folder.",
            ));
        }
    })
}

/// Which paths a walk keeps: everything, or only some repository paths and the folders on the
/// way to them (a watched folder's changes, without walking the rest of the folder).
#[derive(Debug, Default)]
pub(super) struct Only(Option<HashSet<String>>);

impl Only {
    pub(super) fn paths<'a>(paths: impl IntoIterator<Item = &'a RemotePath>) -> Only {
        let mut keep = HashSet::new();
        for path in paths {
            keep.extend(path.ancestors().map(str::to_owned));
            keep.insert(path.as_str().to_owned());
        }
        Only(Some(keep))
    }

    pub(super) fn keeps(&self, remote: &RemotePath) -> bool {
        self.0
            .as_ref()
            .is_none_or(|keep| keep.contains(remote.as_str()))
    }

    /// Only some paths: what is not among them (even what cannot be uploaded) is not reported.
    pub(super) fn restricted(&self) -> bool {
        self.0.is_some()
    }
}
