//! The one error type of the core.
//!
//! Every failure the user can see becomes an [`Error`]: a stable [`ErrorCode`] the UI can act on, a
//! message written for someone who never opens a terminal, and whether trying again may help. The
//! HTTP status and the server's own text are kept for the log only; they never reach the message.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::ChangedOnBranch;

/// What went wrong, as a stable identifier. The UI switches on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Reaching the server.
    Unreachable,
    Timeout,
    Tls,
    NotOxenServer,
    UpgradeRequired,
    InsecureUrl,
    InvalidUrl,
    Redirected,
    // The account.
    KeyRejected,
    NotSignedIn,
    KeychainUnavailable,
    KeychainDenied,
    // Things on the server.
    NamespaceNotFound,
    RepoNotFound,
    BranchNotFound,
    PathNotFound,
    NotFound,
    RepoExists,
    BranchExists,
    RepoEmpty,
    // Input.
    InvalidName,
    InvalidPath,
    InvalidInput,
    // Uploads.
    NothingChanged,
    NothingToUpload,
    BranchMoved,
    /// Files the upload would write changed on the branch after the review: review again.
    ReviewOutdated,
    FileChanged,
    FileUnreadable,
    Cancelled,
    /// The user paused the upload: what was sent is kept, and it continues on resume. Not a
    /// failure.
    Paused,
    ResumeMismatch,
    /// The interrupted upload is being run right now, by another window or command.
    UploadRunning,
    /// The server forgot a big file's part upload; the engine begins that file again.
    UploadExpired,
    /// What reached the server does not match the file's hash; the engine reports the file as
    /// changed.
    ContentMismatch,
    // The server's side.
    ServerBusy,
    ServerError,
    BadResponse,
    // This computer.
    ConfigUnwritable,
    LocalIo,
    Internal,
}

/// A failure, in words the user can act on.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// Whether the same request may succeed later without anyone changing anything: no answer,
    /// a timeout or stall, a busy or failing server (`Unreachable`, `Timeout`, `ServerBusy`,
    /// `ServerError` by default; the client's mapping sets it per answer). The engine retries
    /// these itself with backoff within its retry window; an upload that still ends on one keeps
    /// its journal and workspace and is offered for resume. Everything else is not retried: it
    /// fails the file it concerns, or the whole run when it is nobody's file's fault (a rejected
    /// key — which also keeps the upload for resume after signing in again — or a repository or
    /// branch that is gone). The message never promises a retry itself; the engine adds
    /// "Retrying…" while it retries and "interrupted … you can resume it" when it stops.
    pub retryable: bool,
    /// For [`ErrorCode::ReviewOutdated`]: the files that changed, and the commits that changed
    /// them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub changed: Option<Vec<ChangedOnBranch>>,
    /// HTTP status, for the log.
    #[serde(skip)]
    #[ts(skip)]
    pub status: Option<u16>,
    /// The server's text or the OS error, for the log. Never shown as the message.
    #[serde(skip)]
    #[ts(skip)]
    pub detail: Option<String>,
    /// Seconds the server asked us to wait before retrying (429 Retry-After).
    #[serde(skip)]
    #[ts(skip)]
    pub retry_after: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            retryable: matches!(
                code,
                ErrorCode::Unreachable
                    | ErrorCode::Timeout
                    | ErrorCode::ServerBusy
                    | ErrorCode::ServerError
            ),
            changed: None,
            status: None,
            detail: None,
            retry_after: None,
        }
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::new(
            ErrorCode::Internal,
            "Something went wrong inside OxDrop. Please try again; if it keeps happening, \
             send us the log file.",
        )
        .with_detail(detail.to_string())
    }

    pub fn cancelled() -> Self {
        Error::new(
            ErrorCode::Cancelled,
            "The upload was cancelled. Nothing was committed.",
        )
    }

    pub fn paused() -> Self {
        Error::new(
            ErrorCode::Paused,
            "The upload is paused. What was sent is kept; resume it to continue.",
        )
    }

    /// A local file or folder problem, naming the path.
    pub fn local_io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        let reason = describe_io_error(err);
        Error::new(
            ErrorCode::LocalIo,
            format!("Could not {what} {}: {reason}.", path.display()),
        )
        .with_detail(err.to_string())
    }

    /// One line for logs: code, status and detail, never a secret (the core never puts one here).
    pub fn log_line(&self) -> String {
        let mut line = format!("{:?}: {}", self.code, self.message);
        if let Some(status) = self.status {
            line.push_str(&format!(" [HTTP {status}]"));
        }
        if let Some(detail) = &self.detail {
            line.push_str(&format!(" [{}]", truncate(detail, 500)));
        }
        line
    }
}

/// The reason part of an I/O error, in plain words.
pub fn describe_io_error(err: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::NotFound => "it no longer exists",
        K::PermissionDenied => "you don't have permission to read it",
        K::ReadOnlyFilesystem => "the disk is read-only",
        K::StorageFull => "the disk is full",
        K::IsADirectory => "it is a folder",
        K::NotADirectory => "a part of its path is not a folder",
        K::Interrupted | K::WouldBlock | K::TimedOut => "the disk did not answer in time",
        K::InvalidFilename => "its name is not allowed here",
        _ => "the system reported an error",
    }
}

pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_code_message_retryable_only() {
        let err = Error::new(ErrorCode::ServerBusy, "busy")
            .with_status(429)
            .with_detail("{\"raw\":\"json\"}");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "server_busy", "message": "busy", "retryable": true})
        );
        assert!(err.log_line().contains("HTTP 429"));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
