//! Signing in and out, switching accounts, the remembered author and places (recent and pinned).
//! The key goes in with `sign_in` and never comes back out: no command returns it.

use oxdrop_core::accounts::{self, Account, Destination, SignIn};
use oxdrop_core::model::{Author, ServerInfo};
use oxdrop_core::{Error, ServerUrl};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::state::AppState;

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountsView {
    pub accounts: Vec<Account>,
    pub active: Option<String>,
    pub author: Option<Author>,
    pub recent: Vec<Destination>,
    /// Favourite places, shown before the recent ones.
    pub pinned: Vec<Destination>,
    /// The local sandbox server, when the app was started by the run script.
    pub sandbox: Option<ServerUrl>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AccountId {
    pub id: String,
}

fn view(state: &AppState) -> AccountsView {
    let s = state.settings.load();
    AccountsView {
        accounts: s.accounts,
        active: s.active,
        author: s.author,
        recent: s.recent,
        pinned: s.pinned,
        sandbox: state.sandbox.as_ref().map(|s| s.url().clone()),
    }
}

/// The version of the active account's server.
#[tauri::command]
pub async fn server_info(state: State<'_, AppState>) -> Result<ServerInfo, Error> {
    state.session()?.client.version().await
}

#[tauri::command]
pub async fn accounts_state(state: State<'_, AppState>) -> Result<AccountsView, Error> {
    Ok(view(&state))
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, args: SignIn) -> Result<AccountsView, Error> {
    let settings = state.settings.clone();
    let keychain = state.keychain.clone();
    // The keychain is a blocking D-Bus round trip; the checks are network calls.
    let account = accounts::sign_in(&settings, &keychain, args).await?;
    tracing::info!(account = %account.id, "signed in");
    state.forget_session();
    Ok(view(&state))
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>, args: AccountId) -> Result<AccountsView, Error> {
    let settings = state.settings.clone();
    let keychain = state.keychain.clone();
    tauri::async_runtime::spawn_blocking(move || {
        accounts::sign_out(&settings, &keychain, &args.id)
    })
    .await
    .map_err(Error::internal)??;
    state.forget_session();
    Ok(view(&state))
}

#[tauri::command]
pub async fn switch_account(
    state: State<'_, AppState>,
    args: AccountId,
) -> Result<AccountsView, Error> {
    accounts::switch(&state.settings, &args.id)?;
    state.forget_session();
    Ok(view(&state))
}

#[tauri::command]
pub async fn set_author(state: State<'_, AppState>, args: Author) -> Result<AccountsView, Error> {
    args.check()?;
    state.settings.update(|settings| {
        settings.author = Some(Author {
            name: args.name.trim().to_owned(),
            email: args.email.trim().to_owned(),
        });
        Ok(())
    })?;
    Ok(view(&state))
}

/// Pins a place: listed first among the places, never pushed out by newer uploads.
#[tauri::command]
pub async fn pin_place(
    state: State<'_, AppState>,
    args: Destination,
) -> Result<AccountsView, Error> {
    state.settings.update(|settings| settings.pin(args))?;
    Ok(view(&state))
}

/// Unpins a place: it goes back among the recent ones.
#[tauri::command]
pub async fn unpin_place(
    state: State<'_, AppState>,
    args: Destination,
) -> Result<AccountsView, Error> {
    state.settings.update(|settings| {
        settings.unpin(&args);
        Ok(())
    })?;
    Ok(view(&state))
}
