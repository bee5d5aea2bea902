//! The run's workspace, and the promise of the review: before anything is sent to a new
//! workspace (or in one `PUT`), the branch must still hold what the review showed for every file
//! this upload writes.

use super::UploadRun;
use crate::error::{Error, ErrorCode, Result};
use crate::plan::{changed_since_review, review_outdated};
use crate::retry::retry;
use crate::sync::lock;

impl UploadRun<'_> {
    /// Opens the journaled workspace again if the server still has it (the server's own check at
    /// commit then stops a conflicting change), or makes a new one on a branch that still matches
    /// the review.
    pub(super) async fn open_workspace(&mut self) -> Result<()> {
        let repo = &self.plan.repo;
        if let Some(ws) = self.workspace_id.clone() {
            match self.client.get_workspace(repo, &ws).await? {
                Some(_) => return Ok(()),
                None => {
                    // Gone: committed by the run that was interrupted, or lost. Start afresh.
                    lock(&self.staged).clear();
                    self.parts_before.clear();
                    self.workspace_id = None;
                }
            }
        }
        let checked = self.check_branch_head().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let policy = self.client.options().retry;
        let ws = retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| self.client.create_workspace(repo, &self.plan.branch, &id),
        )
        .await?;
        self.workspace_id = Some(ws.id.clone());
        if let Some(j) = lock(&self.journal).as_mut() {
            j.state.workspace_id = Some(ws.id);
            j.state.staged.clear();
            j.state.parts.clear();
            j.save(true)?;
        }
        // The branch may have moved again between the check and the workspace: the workspace's
        // own base is what the commit builds on.
        match ws.commit_id {
            Some(base) if Some(&base) != checked.as_ref() => self.check_against(&base).await,
            _ => Ok(()),
        }
    }

    /// Reads the branch head; when it is not the one the plan was made on, checks this upload's
    /// files against it. Returns the head (`None`: the branch does not exist yet).
    pub(super) async fn check_branch_head(&self) -> Result<Option<String>> {
        let head = match self.client.branch(&self.plan.repo, &self.plan.branch).await {
            Ok(branch) => Some(branch.commit_id),
            // Planned on an empty repository, and still empty.
            Err(e) if e.code == ErrorCode::BranchNotFound && self.plan.base_commit.is_none() => {
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(h) = &head
            && head != self.plan.base_commit
        {
            self.check_against(h).await?;
        }
        Ok(head)
    }

    async fn check_against(&self, revision: &str) -> Result<()> {
        let changed = changed_since_review(self.client, &self.plan, revision).await?;
        if changed.is_empty() {
            return Ok(());
        }
        tracing::info!(files = changed.len(), revision, "the review is outdated");
        Err(review_outdated(&self.plan, changed))
    }

    /// The server refused the commit because the branch moved under the workspace: name the
    /// files and commits when they can be found, as for a move seen before sending.
    pub(super) async fn name_the_conflict(&self, conflict: Error) -> Error {
        let head = match self.client.branch(&self.plan.repo, &self.plan.branch).await {
            Ok(branch) => branch.commit_id,
            Err(_) => return conflict,
        };
        match changed_since_review(self.client, &self.plan, &head).await {
            Ok(changed) if !changed.is_empty() => review_outdated(&self.plan, changed),
            _ => conflict,
        }
    }
}
