//! Removals a plan asks for (a watch mirroring local deletions), staged just before the commit.

use super::UploadRun;
use crate::error::Result;
use crate::retry::retry;

impl UploadRun<'_> {
    /// Stages every removal in one request. Paths the branch no longer has are already gone,
    /// which is what was asked; staging again on resume is harmless.
    pub(super) async fn stage_removals(&self, workspace_id: &str) -> Result<()> {
        if self.plan.removals.is_empty() {
            return Ok(());
        }
        let policy = self.client.options().retry;
        let gone = retry(
            &policy,
            &self.stop,
            |_, e, _| self.retrying(e),
            |_| {
                self.client
                    .stage_removals(&self.plan.repo, workspace_id, &self.plan.removals)
            },
        )
        .await?;
        if !gone.is_empty() {
            tracing::info!(paths = ?gone, "removals already gone from the branch");
        }
        Ok(())
    }
}
