//! From HTTP failures to user-facing [`Error`]s. What a 404 or a 409 means depends on the call, so
//! each call names its [`Op`].

use std::error::Error as _;

use reqwest::StatusCode;

use super::wire::ServerError;
use crate::error::{Error, ErrorCode};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::server_url::ServerUrl;

/// What a request was for, so a refusal can be explained in its terms.
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    Server,
    Namespace(&'a str),
    Repo(&'a RepoRef),
    CreateRepo(&'a RepoRef),
    Branch(&'a RepoRef, &'a str),
    CreateBranch(&'a RepoRef, &'a str, &'a str),
    Path(&'a RepoRef, &'a str, &'a RemotePath),
    Workspace(&'a RepoRef),
    /// Staging or uploading a file into a workspace.
    Stage(&'a RepoRef),
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

/// A request that got no HTTP answer.
pub(crate) fn transport_error(e: &reqwest::Error, server: &ServerUrl) -> Error {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let host = server.host();
    let err = if e.is_timeout() || lower.contains("timed out") {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "{host} did not answer in time. The server may be busy or the connection slow; try again."
            ),
        )
    } else if lower.contains("certificate")
        || lower.contains("invalidcertificate")
        || lower.contains("tls handshake")
        || lower.contains("unknownissuer")
        || lower.contains("received corrupt message")
        || lower.contains("invalidcontenttype")
    {
        Error::new(
            ErrorCode::Tls,
            format!(
                "The secure connection to {host} failed: its security certificate is not trusted \
                 by this computer or the server does not speak https. Check the address (http:// \
                 or https://) with whoever runs the server."
            ),
        )
        .retryable(false)
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
    {
        Error::new(
            ErrorCode::Unreachable,
            format!(
                "Could not find the server {host}. Check the address and your internet connection."
            ),
        )
    } else if e.is_redirect() {
        Error::new(
            ErrorCode::Redirected,
            format!("{host} redirected too many times. Check the server address."),
        )
        .retryable(false)
    } else if e.is_connect() || lower.contains("connection refused") {
        Error::new(
            ErrorCode::Unreachable,
            format!(
                "Could not connect to {host}. The server may be down, or the address is wrong; check it and your internet connection."
            ),
        )
    } else if e.is_body()
        || e.is_request()
        || lower.contains("connection reset")
        || lower.contains("broken pipe")
        || lower.contains("closed")
    {
        Error::new(
            ErrorCode::Unreachable,
            format!("The connection to {host} was interrupted. OxDrop will try again."),
        )
    } else if e.is_decode() {
        not_oxen(server, "its answer could not be read")
    } else {
        Error::new(
            ErrorCode::Unreachable,
            format!("Talking to {host} failed. Check your connection and try again."),
        )
    };
    err.with_detail(chain)
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A non-2xx answer.
pub(crate) fn status_error(
    status: StatusCode,
    body: &ServerError,
    op: &Op<'_>,
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
            format!(
                "{host} is busy with this repository right now. OxDrop will wait and try again."
            ),
        ),
        404 => not_found(op, body),
        409 => conflict(op, body),
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
        400 | 405 | 411 | 413 | 414 | 415 => bad_request(code, body, op, server),
        408 => Error::new(
            ErrorCode::Timeout,
            format!("{host} gave up waiting for the data. OxDrop will try again."),
        ),
        500 => server_500(body, op, host),
        501 | 505 => not_oxen(server, &format!("it answered {code}")).with_status(code),
        502..=504 => Error::new(
            ErrorCode::ServerError,
            format!("{host} is temporarily unavailable (error {code}). OxDrop will try again."),
        ),
        _ if (500..600).contains(&code) => Error::new(
            ErrorCode::ServerError,
            format!("{host} had a problem (error {code}). OxDrop will try again."),
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

fn not_found(op: &Op<'_>, body: &ServerError) -> Error {
    match *op {
        Op::Server => Error::new(
            ErrorCode::NotOxenServer,
            "This address has no Oxen API. Check the server address.",
        ),
        Op::Namespace(ns) => Error::new(
            ErrorCode::NamespaceNotFound,
            format!("There is no namespace called '{ns}' on this server."),
        ),
        Op::Repo(repo) | Op::CreateRepo(repo) | Op::Workspace(repo) | Op::Stage(repo)
            if body.mentions("repository") && !body.mentions("workspace") =>
        {
            repo_not_found(repo)
        }
        Op::Repo(repo) => repo_not_found(repo),
        Op::Branch(repo, branch) | Op::CreateBranch(repo, _, branch) => {
            if body.mentions("repository") {
                repo_not_found(repo)
            } else {
                Error::new(
                    ErrorCode::BranchNotFound,
                    format!("{repo} has no branch called '{branch}'."),
                )
            }
        }
        Op::Commit(repo, branch) => {
            if body.mentions("workspace") {
                upload_expired()
            } else {
                Error::new(
                    ErrorCode::BranchNotFound,
                    format!(
                        "The branch '{branch}' no longer exists in {repo}; it may have been deleted while you uploaded."
                    ),
                )
            }
        }
        Op::Path(repo, revision, path) => {
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
        Op::Workspace(_) | Op::Stage(_) => upload_expired(),
        Op::CreateRepo(_) => Error::new(
            ErrorCode::NotOxenServer,
            "This server cannot create repositories here.",
        ),
    }
}

fn upload_expired() -> Error {
    Error::new(
        ErrorCode::NotFound,
        "The server no longer has this upload in progress (it may have restarted or expired). OxDrop will start it again.",
    )
    .retryable(true)
}

pub(crate) fn repo_not_found(repo: &RepoRef) -> Error {
    Error::new(
        ErrorCode::RepoNotFound,
        format!("The repository {repo} does not exist on this server, or your key cannot see it."),
    )
}

fn conflict(op: &Op<'_>, body: &ServerError) -> Error {
    match *op {
        Op::CreateRepo(repo) => Error::new(
            ErrorCode::RepoExists,
            format!("The repository {repo} already exists. You can use it."),
        )
        .retryable(false),
        Op::CreateBranch(repo, name, _) => Error::new(
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

fn bad_request(code: u16, body: &ServerError, op: &Op<'_>, server: &ServerUrl) -> Error {
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
    if let Op::CreateRepo(_) = op
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
        && let Op::Workspace(repo) | Op::Stage(repo) | Op::Commit(repo, _) = op
    {
        {
            return Error::new(
                ErrorCode::BranchNotFound,
                format!("The branch no longer exists in {repo}; it may have been deleted."),
            );
        }
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

fn server_500(body: &ServerError, op: &Op<'_>, host: &str) -> Error {
    if body.mentions("already exists")
        && let Op::CreateBranch(repo, name, _) = op
    {
        {
            return Error::new(
                ErrorCode::BranchExists,
                format!("A branch named '{name}' already exists in {repo}."),
            );
        }
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
        format!("{host} had an internal problem. OxDrop will try again."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerUrl {
        ServerUrl::parse("http://127.0.0.1:3000").unwrap()
    }

    fn map(status: u16, body: &str, op: &Op<'_>) -> Error {
        status_error(
            StatusCode::from_u16(status).unwrap(),
            &ServerError::parse(body.as_bytes()),
            op,
            &server(),
            None,
        )
    }

    #[test]
    fn maps_every_documented_case() {
        let repo = RepoRef::new("ox", "cats").unwrap();
        let root = RemotePath::root();
        let cases: Vec<(u16, &str, Op<'_>, ErrorCode, bool)> = vec![
            (
                409,
                r#"{"status":"error","status_message":"Repo already exists.","oxen_version":"0.65.2"}"#,
                Op::CreateRepo(&repo),
                ErrorCode::RepoExists,
                false,
            ),
            (
                404,
                r#"{"status":"error","status_message":"resource_not_found","oxen_version":"0.65.2","status_description":"Repository 'ox/cats' not found"}"#,
                Op::Repo(&repo),
                ErrorCode::RepoNotFound,
                false,
            ),
            (
                404,
                r#"{"error":{"type":"resource_not_found","title":"Branch does not exist","detail":"Could not find branch: Branch 'x' not found"},"status":"error","status_message":"resource_not_found"}"#,
                Op::Branch(&repo, "x"),
                ErrorCode::BranchNotFound,
                false,
            ),
            (
                404,
                r#"{"error":{"type":"resource_not_found","title":"Path does not exist"},"status":"error","status_message":"resource_not_found"}"#,
                Op::Path(&repo, "main", &root),
                ErrorCode::PathNotFound,
                false,
            ),
            (
                422,
                r#"{"status":"error","status_message":"NoChanges","oxen_version":"0.65.2"}"#,
                Op::Commit(&repo, "main"),
                ErrorCode::NothingChanged,
                false,
            ),
            (
                422,
                r#"{"error":{"type":"no_changes","title":"No changes to commit"},"status":"error","status_message":"bad_request"}"#,
                Op::Commit(&repo, "main"),
                ErrorCode::NothingChanged,
                false,
            ),
            (
                409,
                r#"{"error":{"type":"conflict","title":"Workspace is behind","detail":"…"},"status":"error","status_message":"conflict"}"#,
                Op::Commit(&repo, "main"),
                ErrorCode::BranchMoved,
                true,
            ),
            (
                429,
                r#"{"error":{"type":"upload_part_deferred","title":"Deferred"},"status":"error","status_message":"too_many_requests"}"#,
                Op::Stage(&repo),
                ErrorCode::ServerBusy,
                true,
            ),
            (
                426,
                r#"{"error":{"type":"update_required","title":"Update Required","detail":"Oxen CLI out of date."},"status":"error","status_message":"update_required"}"#,
                Op::Server,
                ErrorCode::UpgradeRequired,
                false,
            ),
            (
                400,
                "Payload error",
                Op::Stage(&repo),
                ErrorCode::InvalidInput,
                false,
            ),
            (
                400,
                r#"{"error":{"type":"bad_request","title":"Bad request","detail":"Invalid resource: a/../b is outside the working tree: it has a `..` component"},"status":"error","status_message":"bad_request"}"#,
                Op::Stage(&repo),
                ErrorCode::InvalidPath,
                false,
            ),
            (
                500,
                r#"{"error":{"type":"internal_server_error","title":"Branch already exists: dev"},"status":"error","status_message":"internal_server_error"}"#,
                Op::CreateBranch(&repo, "dev", "main"),
                ErrorCode::BranchExists,
                false,
            ),
            (
                500,
                r#"{"error":{"type":"internal_server_error","title":"boom"},"status":"error","status_message":"internal_server_error"}"#,
                Op::Repo(&repo),
                ErrorCode::ServerError,
                true,
            ),
            (
                502,
                "<html><body>Bad gateway</body></html>",
                Op::Repo(&repo),
                ErrorCode::ServerError,
                true,
            ),
            (503, "", Op::Repo(&repo), ErrorCode::ServerError, true),
            (
                401,
                "unauthorized",
                Op::Repo(&repo),
                ErrorCode::KeyRejected,
                false,
            ),
            (
                403,
                r#"{"status":"error","status_message":"unauthenticated"}"#,
                Op::Repo(&repo),
                ErrorCode::KeyRejected,
                false,
            ),
            (
                404,
                "<!DOCTYPE html><html>Not Found</html>",
                Op::Repo(&repo),
                ErrorCode::NotOxenServer,
                false,
            ),
            (302, "", Op::Repo(&repo), ErrorCode::Redirected, false),
            (
                404,
                r#"{"status":"error","status_message":"resource_not_found","status_description":"Workspace not found: x"}"#,
                Op::Commit(&repo, "main"),
                ErrorCode::NotFound,
                true,
            ),
        ];
        for (status, body, op, want, retryable) in cases {
            let err = map(status, body, &op);
            assert_eq!(err.code, want, "{status} {body}");
            assert_eq!(err.retryable, retryable, "{status} {body}");
            assert_eq!(err.status, Some(status));
            assert!(
                !err.message.contains('{'),
                "raw JSON in message: {}",
                err.message
            );
            assert!(
                !err.message.contains('<'),
                "HTML in message: {}",
                err.message
            );
        }
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any status with any body maps to an error with plain words: no raw JSON or HTML.
        #[test]
        fn every_answer_maps_to_plain_words(status in 300u16..600, body in proptest::collection::vec(any::<u8>(), 0..300), op in 0usize..10) {
            let repo = RepoRef::new("ns", "repo").unwrap();
            let root = RemotePath::root();
            let ops = [
                Op::Server, Op::Namespace("ns"), Op::Repo(&repo), Op::CreateRepo(&repo),
                Op::Branch(&repo, "main"), Op::CreateBranch(&repo, "b", "main"),
                Op::Path(&repo, "main", &root), Op::Workspace(&repo), Op::Stage(&repo),
                Op::Commit(&repo, "main"),
            ];
            let Ok(status) = StatusCode::from_u16(status) else { return Ok(()) };
            let server = ServerUrl::parse("http://127.0.0.1:3000").unwrap();
            let err = status_error(status, &ServerError::parse(&body), &ops[op], &server, None);
            prop_assert!(!err.message.is_empty());
            prop_assert!(!err.message.contains("\"status\""));
            prop_assert!(!err.message.to_ascii_lowercase().contains("<html"));
            prop_assert_eq!(err.status, Some(status.as_u16()));
        }
    }
}
