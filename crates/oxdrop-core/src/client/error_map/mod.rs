//! From HTTP failures to user-facing [`Error`]s. What a 404 or a 409 means depends on the call, so
//! each call names its [`ApiCall`]. Whatever needs the status or the server's words is decided
//! here (or, for "gone is fine", in the client call itself): code outside the client acts on the
//! [`ErrorCode`] alone.
//!
//! A message says what happened, never what OxDrop will do about it: the same error is shown
//! while OxDrop retries ("… Retrying…") and, if retries run out, as why an upload was
//! interrupted, so a promise to try again would be false half the time.

mod transport;

use reqwest::StatusCode;

pub(crate) use transport::{stalled, transport_error};

use super::wire::ServerError;
use crate::error::{Error, ErrorCode};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;

/// What a request was for, so a refusal can be explained in its terms.
#[derive(Debug, Clone, Copy)]
pub enum ApiCall<'a> {
    Server,
    Namespace(&'a str),
    Repo(&'a RepoRef),
    CreateRepo(&'a RepoRef),
    Branch(&'a RepoRef, &'a str),
    CreateBranch(&'a RepoRef, &'a str, &'a str),
    Path(&'a RepoRef, &'a str, &'a RemotePath),
    Workspace(&'a RepoRef),
    /// Staging or uploading a file into a workspace (a batch, or beginning a part upload).
    Stage(&'a RepoRef),
    /// Sending one part of a big file's upload.
    UploadPart(&'a RepoRef),
    Commit(&'a RepoRef, &'a str),
}

pub(crate) fn not_oxen(server: &ServerUrl, why: &str) -> Error {
    Error::new(
        ErrorCode::NotOxenServer,
        format!(
            "{server} does not look like an Oxen server: {why}. Check the address; for Oxen Hub \
             it is https://hub.oxen.ai."
        ),
    )
    .with_detail(why.to_owned())
}

/// A non-2xx answer.
pub(crate) fn status_error(
    status: StatusCode,
    body: &ServerError,
    call: &ApiCall<'_>,
    server: &ServerUrl,
    location: Option<String>,
) -> Error {
    let code = status.as_u16();
    let host = server.host();
    let said = body.human_text();
    let err = match code {
        300..=399 => Error::new(
            ErrorCode::Redirected,
            format!(
                "{host} sent OxDrop to another address ({}). OxDrop does not send your key to \
                 other addresses. If the server has moved, sign in again with its new address.",
                location
                    .as_deref()
                    .map(strip_query)
                    .unwrap_or_else(|| "unknown".into())
            ),
        )
        .retryable(false),
        401 | 403 => key_rejected(host),
        _ if body.mentions("unauthenticated") => key_rejected(host),
        426 => Error::new(
            ErrorCode::UpgradeRequired,
            format!(
                "{host} refused this client as out of date. Update OxDrop, or tell whoever runs the server."
            ),
        ),
        429 => Error::new(
            ErrorCode::ServerBusy,
            format!("{host} is busy with this repository right now."),
        ),
        404 => not_found(call, body),
        409 => conflict(call, body),
        422 => {
            if body.mentions("no_changes")
                || body.mentions("nochanges")
                || body.mentions("no changes")
            {
                Error::new(
                    ErrorCode::NothingChanged,
                    "Nothing changed: every file is already in the repository with the same content.",
                )
            } else {
                Error::new(
                    ErrorCode::ServerError,
                    format!(
                        "The server could not save the commit{}.",
                        said.map(|s| format!(": {s}")).unwrap_or_default()
                    ),
                )
                .retryable(false)
            }
        }
        400 | 405 | 411 | 413 | 414 | 415 => bad_request(code, body, call, server),
        408 => Error::new(
            ErrorCode::Timeout,
            format!("{host} gave up waiting for the data."),
        ),
        500 => server_500(body, call, host),
        501 | 505 => not_oxen(server, &format!("it answered {code}")).with_status(code),
        502..=504 => Error::new(
            ErrorCode::ServerError,
            format!("{host} is temporarily unavailable (error {code})."),
        ),
        _ if (500..600).contains(&code) => Error::new(
            ErrorCode::ServerError,
            format!("{host} had a problem (error {code})."),
        ),
        _ => Error::new(
            ErrorCode::ServerError,
            format!(
                "{host} refused the request (error {code}){}.",
                said.map(|s| format!(": {s}")).unwrap_or_default()
            ),
        )
        .retryable(false),
    };
    // A non-Oxen answer to an error is worth naming as such (a proxy's HTML error page, say).
    let err = if body.is_html && !matches!(code, 401 | 403 | 429 | 502..=504 | 300..=399) {
        not_oxen(server, &format!("it answered error {code} with a web page"))
    } else {
        err
    };
    err.with_status(code).with_detail(body.log_text())
}

fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

pub(crate) fn key_rejected(host: &str) -> Error {
    Error::new(
        ErrorCode::KeyRejected,
        format!(
            "{host} rejected your API key. Sign in again with a valid key (you can create one in your account settings on the server)."
        ),
    )
}

fn not_found(call: &ApiCall<'_>, body: &ServerError) -> Error {
    match *call {
        ApiCall::Server => Error::new(
            ErrorCode::NotOxenServer,
            "This address has no Oxen API. Check the server address.",
        ),
        ApiCall::Namespace(ns) => Error::new(
            ErrorCode::NamespaceNotFound,
            format!("There is no namespace called '{ns}' on this server."),
        ),
        ApiCall::Repo(repo)
        | ApiCall::CreateRepo(repo)
        | ApiCall::Workspace(repo)
        | ApiCall::Stage(repo)
            if body.mentions("repository") && !body.mentions("workspace") =>
        {
            repo_not_found(repo)
        }
        ApiCall::Repo(repo) => repo_not_found(repo),
        ApiCall::Branch(repo, branch) | ApiCall::CreateBranch(repo, _, branch) => {
            if body.mentions("repository") {
                repo_not_found(repo)
            } else {
                Error::new(
                    ErrorCode::BranchNotFound,
                    format!("{repo} has no branch called '{branch}'."),
                )
            }
        }
        ApiCall::Commit(repo, branch) => {
            if body.mentions("workspace") {
                workspace_gone()
            } else {
                Error::new(
                    ErrorCode::BranchNotFound,
                    format!(
                        "The branch '{branch}' no longer exists in {repo}; it may have been deleted while you uploaded."
                    ),
                )
            }
        }
        ApiCall::Path(repo, revision, path) => {
            if body.mentions("repository") {
                repo_not_found(repo)
            } else if path.is_root() {
                Error::new(
                    ErrorCode::PathNotFound,
                    format!(
                        "'{revision}' has no files in {repo} yet (or the branch does not exist)."
                    ),
                )
            } else {
                Error::new(
                    ErrorCode::PathNotFound,
                    format!("'{path}' does not exist on '{revision}' in {repo}."),
                )
            }
        }
        ApiCall::Workspace(_) | ApiCall::Stage(_) => workspace_gone(),
        ApiCall::UploadPart(_) => upload_expired(),
        ApiCall::CreateRepo(_) => Error::new(
            ErrorCode::NotOxenServer,
            "This server cannot create repositories here.",
        ),
    }
}

/// The upload's workspace is gone: retrying (and then resuming) opens a new one.
fn workspace_gone() -> Error {
    Error::new(
        ErrorCode::NotFound,
        "The server no longer has this upload in progress (it may have restarted or expired).",
    )
    .retryable(true)
}

/// The server forgot a big file's part upload (it restarted, the upload sat idle, or it completed
/// without our seeing the answer). Sending the part again cannot help; beginning the file's upload
/// again does, so this is not retryable as a request.
fn upload_expired() -> Error {
    Error::new(
        ErrorCode::UploadExpired,
        "The server no longer has this file's upload in progress (it may have restarted or expired). OxDrop will start the file again.",
    )
    .retryable(false)
}

/// The bytes the server received do not hash to what the upload began with: the file changed
/// while it was read.
fn content_mismatch() -> Error {
    Error::new(
        ErrorCode::ContentMismatch,
        "The file's content did not match its fingerprint when it reached the server: it changed while it was being sent.",
    )
    .retryable(false)
}

pub(crate) fn repo_not_found(repo: &RepoRef) -> Error {
    Error::new(
        ErrorCode::RepoNotFound,
        format!("The repository {repo} does not exist on this server, or your key cannot see it."),
    )
}

fn conflict(call: &ApiCall<'_>, body: &ServerError) -> Error {
    match *call {
        ApiCall::CreateRepo(repo) => Error::new(
            ErrorCode::RepoExists,
            format!("The repository {repo} already exists. You can use it."),
        )
        .retryable(false),
        ApiCall::CreateBranch(repo, name, _) => Error::new(
            ErrorCode::BranchExists,
            format!("A branch named '{name}' already exists in {repo}."),
        ),
        _ if body.mentions("behind") || body.mentions("conflict") => Error::new(
            ErrorCode::BranchMoved,
            "Someone changed some of the same files on this branch while you were uploading. \
             Review the files and upload again.",
        )
        .retryable(true),
        _ => Error::new(
            ErrorCode::BranchMoved,
            format!(
                "The server reported a conflict{}. Review the files and upload again.",
                body.human_text()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default()
            ),
        )
        .retryable(true),
    }
}

fn bad_request(code: u16, body: &ServerError, call: &ApiCall<'_>, server: &ServerUrl) -> Error {
    if let ApiCall::UploadPart(_) = call
        && code == 400
        && body.mentions("hash")
    {
        return content_mismatch();
    }
    if !body.is_oxen_json() && body.text.is_none() && code == 405 {
        return not_oxen(server, "it does not support this request");
    }
    if body.mentions("payload error") || code == 413 {
        return Error::new(
            ErrorCode::InvalidInput,
            "The server refused a file as too large for this kind of upload.",
        )
        .retryable(false);
    }
    if body.mentions("outside the working tree") || body.mentions("invalid destination path") {
        return Error::new(
            ErrorCode::InvalidPath,
            format!(
                "The server refused a path: {}.",
                body.human_text()
                    .unwrap_or("it is not inside the repository")
            ),
        );
    }
    if let ApiCall::CreateRepo(_) = call
        && (body.mentions("invalid repository name") || body.mentions("invalid namespace name"))
    {
        return Error::new(
            ErrorCode::InvalidName,
            body.human_text()
                .unwrap_or("The server refused the name.")
                .to_owned(),
        );
    }
    if body.mentions("branch not found")
        && let ApiCall::Workspace(repo)
        | ApiCall::Stage(repo)
        | ApiCall::UploadPart(repo)
        | ApiCall::Commit(repo, _) = call
    {
        return Error::new(
            ErrorCode::BranchNotFound,
            format!("The branch no longer exists in {repo}; it may have been deleted."),
        );
    }
    Error::new(
        ErrorCode::InvalidInput,
        match body.human_text() {
            Some(text) => format!("The server refused the request: {text}"),
            None => "The server refused the request as invalid.".to_owned(),
        },
    )
    .retryable(false)
}

fn server_500(body: &ServerError, call: &ApiCall<'_>, host: &str) -> Error {
    if body.mentions("already exists")
        && let ApiCall::CreateBranch(repo, name, _) = call
    {
        return Error::new(
            ErrorCode::BranchExists,
            format!("A branch named '{name}' already exists in {repo}."),
        );
    }
    if body.mentions("not a valid branch name") {
        return Error::new(
            ErrorCode::InvalidName,
            body.human_text()
                .unwrap_or("The branch name is not valid.")
                .to_owned(),
        );
    }
    Error::new(
        ErrorCode::ServerError,
        format!("{host} had an internal problem."),
    )
}

#[cfg(test)]
mod tests;
