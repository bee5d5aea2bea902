//! What an upload is before it runs: the checks, the message and the journal's plan file, for a
//! run that starts now and for one queued to run later.

use super::super::UploadOptions;
use super::super::journal::{Journal, PlanFile, UploadId};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::fs::now_unix;
use crate::plan::{Plan, PlanRequest};

/// What a new upload journals: its plan, as reviewed, with the message and author to commit
/// with. Refuses a plan with nothing to send, and an author without a name or email.
pub(super) fn plan_file(
    client: &OxenClient,
    request: &PlanRequest,
    plan: &Plan,
    options: &UploadOptions,
) -> Result<(UploadId, PlanFile)> {
    options.author.check()?;
    if plan.to_send().next().is_none() && plan.removals.is_empty() {
        return Err(if plan.files.is_empty() {
            Error::new(
                ErrorCode::NothingToUpload,
                "There is nothing to upload: no file in the selection can be sent.",
            )
        } else {
            Error::new(
                ErrorCode::NothingChanged,
                "Nothing changed: every file is already on the branch with the same content.",
            )
        });
    }
    let message = match options.message.trim() {
        "" => plan.default_message.clone(),
        m => m.to_owned(),
    };
    let id = options.upload_id.clone().unwrap_or_else(UploadId::new);
    let plan_file = PlanFile {
        format: 1,
        id: id.to_string(),
        server: client.server().clone(),
        user: Some(client.user().to_owned()),
        request: request.clone(),
        plan: plan.clone(),
        message,
        author: options.author.clone(),
        started_unix: now_unix(),
    };
    Ok((id, plan_file))
}

/// Journals an upload to be run later by `resume` (see `upload::prepare`).
pub(crate) fn prepare(
    client: &OxenClient,
    request: &PlanRequest,
    plan: &Plan,
    options: &UploadOptions,
) -> Result<UploadId> {
    let Some(dir) = &options.journal_dir else {
        return Err(Error::internal("a queued upload needs a journal folder"));
    };
    let (id, plan_file) = plan_file(client, request, plan, options)?;
    // Created, then let go: the lock is taken again by the run.
    Journal::create(dir, id.clone(), &plan_file)?;
    Ok(id)
}
