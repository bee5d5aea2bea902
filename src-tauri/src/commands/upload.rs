//! Planning an upload. The plan is made from the sources held in Rust and kept here; putting it
//! in the list of uploads (`queue::enqueue_upload`) uses that kept plan, not anything the page
//! sends back. Every upload then runs in that list (`runner`).

use oxdrop_core::accounts::Destination;
use oxdrop_core::model::Author;
use oxdrop_core::plan::{Plan, PlanRequest, make_plan};
use oxdrop_core::{Error, RemotePath, RepoRef};
use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

use crate::state::AppState;

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    pub repo: RepoRef,
    pub branch: String,
    pub dest: RemotePath,
    /// Follow links that lead outside a dropped folder (the user chose it in the review).
    #[serde(default)]
    pub follow_links: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct StartArgs {
    /// Empty: the plan's suggested message.
    pub message: String,
    pub author: Author,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UploadId {
    pub id: String,
}

#[tauri::command]
pub async fn plan_upload(state: State<'_, AppState>, args: PlanArgs) -> Result<Plan, Error> {
    // Whatever happens next, the plan reviewed before this one is no longer what the user sees.
    state.forget_plan();
    let session = state.session()?;
    let request = PlanRequest {
        repo: args.repo,
        branch: args.branch,
        dest: args.dest,
        sources: state.source_paths(),
        follow_links: args.follow_links,
        ignore_patterns: state.settings.load().ignore_patterns,
        contents: None,
    };
    let plan = make_plan(&session.client, &request).await?;
    state.remember_plan(request, plan.clone());
    Ok(plan)
}

/// The author and destination are remembered for next time (failures to save are logged only:
/// they must not fail an upload).
pub(super) fn remember_author_and_destination(
    state: &AppState,
    account_id: &str,
    request: &PlanRequest,
    author: &Author,
) {
    let saved = state.settings.update(|settings| {
        settings.author = Some(author.clone());
        settings.remember_destination(Destination {
            account_id: account_id.to_owned(),
            repo: request.repo.clone(),
            branch: request.branch.clone(),
            dest: request.dest.clone(),
        });
        Ok(())
    });
    if let Err(e) = saved {
        tracing::warn!(error = %e.log_line(), "settings not saved");
    }
}
