//! The local sandbox's state for the sign-in screen, while `scripts/run-app` prepares it.

use oxdrop_core::Error;
use tauri::State;

use crate::sandbox::{self, SandboxStatus};
use crate::state::AppState;

/// `None` when the app was not started with a sandbox.
#[tauri::command]
pub async fn sandbox_status(state: State<'_, AppState>) -> Result<Option<SandboxStatus>, Error> {
    Ok(state.sandbox.as_ref().map(|s| s.status()))
}

/// The end of the sandbox's build or server log.
#[tauri::command]
pub async fn sandbox_log(state: State<'_, AppState>) -> Result<String, Error> {
    state.sandbox.as_ref().ok_or_else(sandbox::none)?.log_tail()
}
