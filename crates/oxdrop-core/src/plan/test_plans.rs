//! Plans built without a server, for the tests of the queue, the history and the engine.

use super::{FileStatus, Plan, PlanTotals, PlannedFile};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;

impl Plan {
    /// A plan of new files (repository paths, `size` bytes each, on a branch at commit `c1`), for
    /// tests that need no server.
    pub(crate) fn of_new_files(repo: RepoRef, dest: RemotePath, files: &[&str], size: u64) -> Plan {
        Plan {
            repo,
            branch: "main".into(),
            dest,
            base_commit: Some("c1".into()),
            files: files
                .iter()
                .map(|f| PlannedFile {
                    local: format!("/tmp/{f}"),
                    remote: RemotePath::parse(f).expect("a test path"),
                    size,
                    status: FileStatus::New,
                    hash: None,
                    remote_hash: None,
                    remote_commit: None,
                    mtime_ns: None,
                })
                .collect(),
            refused: vec![],
            excluded: vec![],
            notes: vec![],
            totals: PlanTotals::default(),
            default_message: "Add".into(),
            removals: vec![],
        }
    }
}
