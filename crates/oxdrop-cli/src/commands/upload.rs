//! `upload`, `resume`, `discard` and `uploads`: sending files as one commit, and picking up (or
//! dropping) an interrupted upload where it stopped.

use std::path::Path;
use std::sync::Arc;

use oxdrop_core::plan::{PlanRequest, make_plan};
use oxdrop_core::upload::{self, Interrupted, LocalChange, Tuning, UploadId, UploadOptions};
use oxdrop_core::{Error, ErrorCode, OxenClient, RemotePath, RepoRef, app_dirs};
use tokio_util::sync::CancellationToken;

use crate::exit::Exit;
use crate::{UploadArgs, connect, progress};

pub async fn cmd_upload(server: Option<&str>, args: UploadArgs, json: bool) -> Result<Exit, Error> {
    let UploadArgs {
        paths,
        repo,
        branch,
        dest,
        message,
        author,
        dry_run,
        follow_links,
        fresh,
    } = args;
    let client = connect::client(server)?;
    // The ignore list of the settings the app shares; unreadable settings leave it empty.
    let ignore_patterns = connect::store()
        .map(|s| s.load().ignore_patterns)
        .unwrap_or_default();
    let request = PlanRequest {
        repo: RepoRef::parse(&repo)?,
        branch,
        dest: RemotePath::parse(&dest)?,
        sources: paths
            .iter()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect(),
        follow_links,
        ignore_patterns,
        contents: None,
    };
    let journal_dir = app_dirs::journal_dir().ok();
    if !fresh
        && !dry_run
        && let Some(dir) = &journal_dir
        && let Some(found) = connect::matching_interrupted(dir, &client, &request)
    {
        // Resume only what would be uploaded now, with the message and author asked for now.
        let now = make_plan(&client, &request).await?;
        let changes = upload::local_changes(&found.plan, &now);
        if !changes.is_empty() {
            return Err(changed_since(&found, &changes));
        }
        let author = match author.as_deref() {
            Some(text) => Some(connect::author(Some(text))?),
            None => None,
        };
        upload::amend(dir, &found.id, Some(&message), author.as_ref())?;
        eprintln!("Resuming an interrupted upload of the same files (use --fresh to start over).");
        return resume_upload(&client, dir, &found.id, json).await;
    }
    let plan = make_plan(&client, &request).await?;
    progress::print_plan(&plan, json);
    if dry_run {
        if json {
            println!("{}", serde_json::to_string(&plan).map_err(Error::internal)?);
        }
        return Ok(Exit::Ok);
    }
    let to_send = plan.to_send().count();
    if to_send == 0 {
        let only_refused = plan.files.is_empty();
        return Err(if only_refused {
            Error::new(
                ErrorCode::NothingToUpload,
                "Nothing can be uploaded: every file was refused (see above).",
            )
        } else {
            Error::new(
                ErrorCode::NothingChanged,
                "Nothing changed: every file is already on the branch with the same content.",
            )
        });
    }
    let author = connect::author(author.as_deref())?;
    let options = UploadOptions {
        message,
        author,
        tuning: tuning_from_env(),
        journal_dir,
        ..UploadOptions::default()
    };
    let cancel = ctrl_c_cancels();
    let display = Arc::new(progress::Display::new(&plan, json));
    let outcome = upload::upload(&client, &request, &plan, &options, display.clone(), cancel).await;
    display.finish();
    let outcome = outcome?;
    Ok(progress::print_outcome(&outcome, json))
}

pub async fn cmd_resume(
    server: Option<&str>,
    id: Option<String>,
    json: bool,
) -> Result<Exit, Error> {
    let id = id.as_deref().map(UploadId::parse).transpose()?;
    let client = connect::client(server)?;
    let dir = app_dirs::journal_dir()?;
    let id = match id {
        Some(id) => id,
        None => upload::list_resumable(&dir)
            .into_iter()
            .find(|u| &u.server == client.server())
            .and_then(|u| UploadId::parse(&u.id).ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NothingToUpload,
                    "There is no interrupted upload to resume.",
                )
            })?,
    };
    resume_upload(&client, &dir, &id, json).await
}

/// Forgets an interrupted upload; what it sent is removed from the server when that server is
/// the one signed in to (else it is only forgotten here).
pub async fn cmd_discard(server: Option<&str>, id: &str) -> Result<Exit, Error> {
    let id = UploadId::parse(id)?;
    let dir = app_dirs::journal_dir()?;
    match connect::client(server) {
        Ok(client) => upload::discard(&client, &dir, &id).await?,
        Err(_) => upload::forget(&dir, &id)?,
    }
    println!("Discarded the interrupted upload {id}.");
    Ok(Exit::Ok)
}

pub fn cmd_uploads(json: bool) -> Result<Exit, Error> {
    let dir = app_dirs::journal_dir().ok();
    let list = dir.map(|d| upload::list_resumable(&d)).unwrap_or_default();
    if json {
        println!("{}", serde_json::to_string(&list).map_err(Error::internal)?);
    } else if list.is_empty() {
        println!("No interrupted uploads.");
    } else {
        for u in list {
            println!(
                "{}  {}/{}  {} of {} files sent ({} of {})  {} ({})",
                u.id,
                u.repo,
                u.branch,
                u.files_sent,
                u.files_total,
                progress::human_bytes(u.bytes_sent),
                progress::human_bytes(u.bytes_total),
                u.message,
                u.server
            );
        }
    }
    Ok(Exit::Ok)
}

async fn resume_upload(
    client: &OxenClient,
    dir: &Path,
    id: &UploadId,
    json: bool,
) -> Result<Exit, Error> {
    let cancel = ctrl_c_cancels();
    let display = Arc::new(progress::Display::plain(json));
    let outcome = upload::resume(
        client,
        dir,
        id,
        tuning_from_env(),
        display.clone(),
        cancel,
        Default::default(),
    )
    .await;
    display.finish();
    Ok(progress::print_outcome(&outcome?, json))
}

/// The interrupted upload of these files was planned before they changed: resuming it would
/// send the old selection, so say what changed and what to run.
fn changed_since(found: &Interrupted, changes: &[LocalChange]) -> Error {
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = changes
        .iter()
        .take(SHOWN)
        .map(|c| format!("  {c}"))
        .collect();
    if changes.len() > SHOWN {
        lines.push(format!("  … and {} more", changes.len() - SHOWN));
    }
    let again: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
    let id = &found.id;
    Error::new(
        ErrorCode::ResumeMismatch,
        format!(
            "An interrupted upload of these files ({id}) was planned before they changed:\n{}\n\
             To finish it as it was planned: oxdrop resume {id}\n\
             To upload the files as they are now instead: oxdrop discard {id}\n  \
             then: oxdrop {} --fresh",
            lines.join("\n"),
            again.join(" ")
        ),
    )
}

/// `arg` as a POSIX shell reads it back.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Ctrl-C cancels the upload cleanly (the engine removes what it sent); a second one exits.
fn ctrl_c_cancels() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nCancelling… (press Ctrl-C again to quit at once)");
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    cancel
}

/// Engine knobs for experiments and benchmarks: OXDROP_PARALLEL, OXDROP_SMALL_MAX,
/// OXDROP_BATCH_BYTES, OXDROP_BATCH_FILES, OXDROP_BIG_FILES, OXDROP_GZIP=never|auto|always.
pub(crate) fn tuning_from_env() -> Tuning {
    let mut t = Tuning::default();
    let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(v) = num("OXDROP_PARALLEL") {
        t.parallel_requests = v.max(1) as usize;
    }
    if let Some(v) = num("OXDROP_SMALL_MAX") {
        t.small_file_max = v;
    }
    if let Some(v) = num("OXDROP_BATCH_BYTES") {
        t.batch_max_bytes = v.max(1);
    }
    if let Some(v) = num("OXDROP_BATCH_FILES") {
        t.batch_max_files = v.max(1) as usize;
    }
    if let Some(v) = num("OXDROP_BIG_FILES") {
        t.parallel_big_files = v.max(1) as usize;
    }
    match std::env::var("OXDROP_GZIP").as_deref() {
        Ok("never") => t.gzip = upload::GzipPolicy::Never,
        Ok("always") => t.gzip = upload::GzipPolicy::Always,
        _ => {}
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_shell_only_what_needs_it() {
        assert_eq!(shell_quote("team/photos"), "team/photos");
        assert_eq!(shell_quote("all of it"), "'all of it'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
