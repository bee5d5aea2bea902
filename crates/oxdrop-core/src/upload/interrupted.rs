//! Interrupted uploads from the caller's side: whose they are (the account check before a
//! resume), what they planned, and discarding one.

use std::path::Path;
use std::time::Duration;

use super::journal::{self, Journal, PlanFile, UploadId};
use crate::client::OxenClient;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Author;
use crate::plan::{Plan, PlanRequest};
use crate::server_url::ServerUrl;

/// An interrupted upload as it was planned.
#[derive(Debug, Clone)]
pub struct Interrupted {
    pub id: UploadId,
    pub server: ServerUrl,
    pub request: PlanRequest,
    pub plan: Plan,
    pub message: String,
    pub author: Author,
}

/// Reads an interrupted upload; [`ErrorCode::UploadRunning`] while it runs.
pub fn interrupted(journal_dir: &Path, id: &UploadId) -> Result<Interrupted> {
    let (plan_file, _) = journal::peek(journal_dir, id)?;
    Ok(Interrupted {
        id: id.clone(),
        server: plan_file.server,
        request: plan_file.request,
        plan: plan_file.plan,
        message: plan_file.message,
        author: plan_file.author,
    })
}

/// A resume continues on the server, and as the user, the upload was started with: never
/// silently as someone else.
pub(crate) fn check_account(client: &OxenClient, plan_file: &PlanFile) -> Result<()> {
    if client.server() != &plan_file.server {
        return Err(Error::new(
            ErrorCode::ResumeMismatch,
            format!(
                "This upload was started on {}; sign in to that server to resume it.",
                plan_file.server
            ),
        ));
    }
    // Journals written before the user was recorded: the server is all there is to check.
    let Some(user) = &plan_file.user else {
        return Ok(());
    };
    if user != client.user() {
        let who = |u: &str| match u {
            "" => "without a user name".to_owned(),
            u => format!("as {u}"),
        };
        return Err(Error::new(
            ErrorCode::ResumeMismatch,
            format!(
                "This upload was started {} on {}, not {}; switch to that account to resume it, or discard it.",
                who(user),
                plan_file.server,
                who(client.user())
            ),
        ));
    }
    Ok(())
}

/// Forgets an interrupted upload, removing what it had sent to the server (its workspace). A
/// running upload is refused ([`ErrorCode::UploadRunning`]) and left exactly as it is.
pub async fn discard(client: &OxenClient, journal_dir: &Path, id: &UploadId) -> Result<()> {
    let (plan_file, journal) = Journal::open_any(journal_dir, id)?;
    if let Ok(plan_file) = plan_file
        && let Some(ws) = &journal.state.workspace_id
        && client.server() == &plan_file.server
    {
        // Best effort: an unreachable server must not keep the entry alive forever.
        let _ = tokio::time::timeout(
            Duration::from_secs(15),
            client.delete_workspace(&plan_file.plan.repo, ws),
        )
        .await;
    }
    journal.remove();
    Ok(())
}

/// Forgets an interrupted upload on this computer only (when its server cannot be reached);
/// refused like [`discard`] while it runs.
pub fn forget(journal_dir: &Path, id: &UploadId) -> Result<()> {
    let (_, journal) = Journal::open_any(journal_dir, id)?;
    journal.remove();
    Ok(())
}
