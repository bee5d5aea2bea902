//! Browsing and creating on the server: namespaces, repositories, branches, folders.

use oxdrop_core::model::{Branch, DirPage, RepoDetails, RepoSummary};
use oxdrop_core::repo_ref::{check_namespace, check_repo_name as repo_name_rules};
use oxdrop_core::{Error, RemotePath, RepoRef};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::state::AppState;

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NamespaceArgs {
    pub namespace: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NameCheckArgs {
    pub namespace: String,
    pub name: String,
}

/// The verdict on a repository name as it is typed: the server's rules, and whether it exists.
#[derive(Debug, Serialize, TS)]
pub struct NameCheck {
    pub valid: bool,
    pub exists: bool,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CreateRepoArgs {
    pub repo: RepoRef,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CreateBranchArgs {
    pub repo: RepoRef,
    pub name: String,
    pub from: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ListDirArgs {
    pub repo: RepoRef,
    pub revision: String,
    pub path: RemotePath,
    pub page: u32,
}

#[tauri::command]
pub async fn list_namespaces(state: State<'_, AppState>) -> Result<Vec<String>, Error> {
    let session = state.session()?;
    let mut names = session.client.namespaces().await?;
    // The user's own namespace first, even before it holds anything.
    let user = session.account.user.trim();
    if !user.is_empty() {
        names.retain(|n| !n.eq_ignore_ascii_case(user));
        names.insert(0, user.to_owned());
    }
    Ok(names)
}

#[tauri::command]
pub async fn list_repos(
    state: State<'_, AppState>,
    args: NamespaceArgs,
) -> Result<Vec<RepoSummary>, Error> {
    state.session()?.client.repositories(&args.namespace).await
}

#[tauri::command]
pub async fn repo_details(state: State<'_, AppState>, args: RepoRef) -> Result<RepoDetails, Error> {
    state.session()?.client.repository(&args).await
}

#[tauri::command]
pub async fn check_repo_name(
    state: State<'_, AppState>,
    args: NameCheckArgs,
) -> Result<NameCheck, Error> {
    if let Err(e) = check_namespace(&args.namespace).and_then(|_| repo_name_rules(&args.name)) {
        return Ok(NameCheck {
            valid: false,
            exists: false,
            message: Some(e.message),
        });
    }
    let repos = state
        .session()?
        .client
        .repositories(&args.namespace)
        .await?;
    let exists = repos
        .iter()
        .any(|r| r.name.eq_ignore_ascii_case(&args.name));
    Ok(NameCheck {
        valid: true,
        exists,
        message: exists.then(|| {
            format!(
                "{}/{} already exists — you can use it.",
                args.namespace, args.name
            )
        }),
    })
}

#[tauri::command]
pub async fn create_repo(
    state: State<'_, AppState>,
    args: CreateRepoArgs,
) -> Result<RepoSummary, Error> {
    state
        .session()?
        .client
        .create_repository(&args.repo, args.description.as_deref())
        .await
}

#[tauri::command]
pub async fn list_branches(
    state: State<'_, AppState>,
    args: RepoRef,
) -> Result<Vec<Branch>, Error> {
    state.session()?.client.branches(&args).await
}

#[tauri::command]
pub async fn create_branch(
    state: State<'_, AppState>,
    args: CreateBranchArgs,
) -> Result<Branch, Error> {
    state
        .session()?
        .client
        .create_branch(&args.repo, &args.name, &args.from)
        .await
}

#[tauri::command]
pub async fn list_dir(state: State<'_, AppState>, args: ListDirArgs) -> Result<DirPage, Error> {
    state
        .session()?
        .client
        .list_dir(&args.repo, &args.revision, &args.path, args.page, 200)
        .await
}
