//! Exit codes that mean something to scripts.

use std::process::ExitCode;

use oxdrop_core::model::BranchChange;
use oxdrop_core::{Error, ErrorCode};

pub const HELP: &str = "\
Exit codes:
  0  done (a commit was made, or the command succeeded)
  1  failed (see the message)
  2  bad input: names, paths or arguments
  3  nothing changed: every file is already on the branch
  4  committed, but some files failed (listed)
  5  not signed in, or the API key was rejected
  6  interrupted: the server could not be reached; `oxdrop resume` continues
  7  conflict: the repository or branch already exists, or the branch moved (files someone
     changed after the plan are listed; run the upload again to plan afresh)
130  cancelled (Ctrl-C); nothing was committed

Environment:
  OXDROP_API_KEY   API key for scripts (never pass a key as an argument)
  OXDROP_SERVER    server address, like --server
  OXDROP_AUTHOR    commit author, \"Name <email>\"";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Partial,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        match e {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Partial => ExitCode::from(4),
        }
    }
}

pub fn code_for(err: &Error) -> u8 {
    use ErrorCode as C;
    match err.code {
        C::InvalidName | C::InvalidPath | C::InvalidInput | C::InvalidUrl | C::InsecureUrl => 2,
        C::NothingChanged => 3,
        C::KeyRejected | C::NotSignedIn | C::KeychainUnavailable | C::KeychainDenied => 5,
        C::Unreachable | C::Timeout | C::ServerBusy => 6,
        C::ServerError if err.retryable => 6,
        C::RepoExists | C::BranchExists | C::BranchMoved | C::ReviewOutdated => 7,
        C::Cancelled => 130,
        _ => 1,
    }
}

/// Prints the error in the core's words (never raw server output) and picks the exit code.
pub fn report(err: &Error, json: bool) -> ExitCode {
    tracing::debug!(error = %err.log_line(), "command failed");
    if json {
        let body = serde_json::json!({ "error": err });
        println!("{body}");
    }
    if err.code == ErrorCode::NothingChanged {
        eprintln!("{}", err.message);
    } else {
        eprintln!("error: {}", err.message);
    }
    for c in err.changed.iter().flatten() {
        let what = match c.change {
            BranchChange::Added => "added",
            BranchChange::Removed => "removed",
            BranchChange::Modified => "changed",
            BranchChange::Blocked => "blocked",
        };
        let by = c.commit.as_ref().map_or(String::new(), |commit| {
            let short: String = commit.id.chars().take(10).collect();
            format!("  (commit {short} by {})", commit.author)
        });
        eprintln!("  {what:<8} {}{by}", c.path);
    }
    ExitCode::from(code_for(err))
}
