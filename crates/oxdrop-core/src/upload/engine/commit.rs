//! The commit, and finding our own commit when its answer was lost.

use tokio_util::sync::CancellationToken;

use super::UploadRun;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Commit;
use crate::retry::retry;

impl UploadRun<'_> {
    /// Not cancellable: once the commit request may have reached the server, stopping could
    /// report "nothing committed" about a commit that exists. It is quick and bounded anyway.
    pub(super) async fn commit(&self, workspace_id: &str) -> Result<Commit> {
        let repo = &self.plan.repo;
        let policy = self.client.options().retry;
        let uncancellable = CancellationToken::new();
        retry(&policy, &uncancellable, |_, e, _| self.retrying(e), |_| async {
            match self
                .client
                .commit_workspace(repo, workspace_id, &self.plan.branch, &self.message, &self.author)
                .await
            {
                Ok(c) => Ok(c),
                Err(e) if e.code == ErrorCode::BranchMoved => Err(e.retryable(false)),
                Err(e) if e.retryable => {
                    // The answer may be lost while the commit landed: the server deletes the
                    // workspace when it commits, so look before committing again.
                    match self.client.get_workspace(repo, workspace_id).await {
                        Ok(Some(_)) => Err(e),
                        Ok(None) => match self.find_own_commit().await? {
                            Some(c) => Ok(c),
                            None => Err(Error::new(
                                ErrorCode::ServerError,
                                "The server lost this upload before it could be committed. Upload the files again.",
                            )
                            .retryable(false)),
                        },
                        Err(e2) => Err(e2),
                    }
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Our commit at the head of the branch, if there: same message and author, made after the
    /// upload started.
    pub(super) async fn find_own_commit(&self) -> Result<Option<Commit>> {
        let commits = self
            .client
            .commits(&self.plan.repo, &self.plan.branch, 20)
            .await?;
        Ok(commits.into_iter().find(|c| {
            c.message == self.message
                && c.author == self.author.name
                && c.email == self.author.email
                && commit_after(c, self.started_unix)
        }))
    }
}

/// Made after the upload started (with two seconds for clocks that disagree); an unreadable
/// timestamp does not rule a commit out.
fn commit_after(commit: &Commit, started_unix: u64) -> bool {
    time::OffsetDateTime::parse(
        &commit.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|t| t.unix_timestamp() + 2 >= started_unix as i64)
    .unwrap_or(true)
}
