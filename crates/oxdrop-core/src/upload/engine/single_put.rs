//! The first upload into an empty repository, in one `PUT /file`.

use tokio_util::sync::CancellationToken;

use super::UploadRun;
use crate::error::{Error, ErrorCode, Result};
use crate::plan::PlannedFile;
use crate::retry::retry;
use crate::sync::lock;
use crate::upload::UploadOutcome;
use crate::upload::local_file::{multipart_name_survives, read_checked};
use crate::upload::nothing_sent;
use crate::upload::progress::{FileState, Phase};

/// `PUT /file` holds the whole multipart body in 2 MiB; stay well below.
const SINGLE_PUT_LIMIT: u64 = 1536 << 10;

impl UploadRun<'_> {
    /// Small uploads into an empty repository go in one `PUT /file`, which creates the branch
    /// with the user's commit as its first (a workspace would add the server's own empty
    /// "Initialized Repo" commit before it).
    pub(super) fn single_put_candidates(&self) -> Option<Vec<u32>> {
        let files: Vec<(usize, &PlannedFile)> = self.plan.to_send().collect();
        let total: u64 = files.iter().map(|(_, f)| f.size).sum();
        let first_parent = files.first()?.1.remote.parent();
        let plain = files.iter().all(|(_, f)| {
            f.remote.parent() == first_parent && multipart_name_survives(f.remote.file_name())
        });
        (plain && files.len() <= 100 && total <= SINGLE_PUT_LIMIT)
            .then(|| files.iter().map(|(i, _)| *i as u32).collect())
    }

    pub(super) async fn single_put(&self, indices: Vec<u32>) -> Result<UploadOutcome> {
        let files: Vec<PlannedFile> = indices
            .iter()
            .map(|&i| self.plan.files[i as usize].clone())
            .collect();
        let read =
            tokio::task::spawn_blocking(move || files.iter().map(read_checked).collect::<Vec<_>>())
                .await
                .map_err(Error::internal)?;
        let mut parts = Vec::new();
        let mut sent = Vec::new();
        for (&i, r) in indices.iter().zip(read) {
            match r {
                Ok(bytes) => {
                    parts.push((
                        self.plan.files[i as usize].remote.file_name().to_owned(),
                        bytes,
                    ));
                    sent.push(i);
                }
                Err(e) => self.fail(i, e),
            }
        }
        let failed = std::mem::take(&mut *lock(&self.failed));
        if parts.is_empty() {
            return Err(nothing_sent(&failed));
        }
        self.tracker.phase(Phase::Sending);
        for &i in &sent {
            self.tracker.file(i, FileState::Sending);
        }
        let dir = self.plan.files[sent[0] as usize].remote.parent();
        // A retry after a lost answer fails as "nothing changed"; then the commit is looked up.
        // Not cancellable once sent, like the workspace commit.
        if self.stop.is_cancelled() {
            return Err(Error::cancelled());
        }
        let policy = self.client.options().retry;
        let uncancellable = CancellationToken::new();
        let commit = retry(
            &policy,
            &uncancellable,
            |_, e, _| self.retrying(e),
            |attempt| {
                let parts = parts.clone();
                let dir = dir.clone();
                async move {
                    match self
                        .client
                        .put_files(
                            &self.plan.repo,
                            &self.plan.branch,
                            &dir,
                            parts,
                            &self.message,
                            &self.author,
                        )
                        .await
                    {
                        Err(e) if attempt > 1 && e.code == ErrorCode::NothingChanged => {
                            self.find_own_commit().await?.ok_or(e)
                        }
                        other => other,
                    }
                }
            },
        )
        .await?;
        for &i in &sent {
            self.tracker.add_bytes(self.plan.files[i as usize].size);
            self.mark_staged(i);
        }
        Ok(self.outcome(commit, failed))
    }
}
