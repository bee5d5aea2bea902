//! `watch add|list|remove|pause|resume|resolve|run`: folders kept uploaded. The list is shared
//! with the app; `watch run` keeps every watch going in the foreground until Ctrl-C.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use oxdrop_core::accounts::{Destination, account_id};
use oxdrop_core::watch::{
    self, NewWatch, Resolution, Rhythm, Watch, WatchContext, WatchEngine, WatchState, WatchStatus,
};
use oxdrop_core::{Error, ErrorCode, RemotePath, RepoRef, ServerUrl};

use crate::exit::Exit;
use crate::{WatchAddArgs, connect};

fn context() -> Result<WatchContext, Error> {
    WatchContext::default_location()
}

/// The account a new watch uploads with: the one signed in to `--server` (or the active one);
/// a server on this computer needs none.
fn account_for(server: Option<&str>) -> Result<String, Error> {
    let settings = connect::store()?.load();
    match server {
        Some(s) => {
            let url = ServerUrl::parse(s)?;
            match settings.account_for(&url) {
                Some(a) => Ok(a.id.clone()),
                None if url.is_loopback() => Ok(account_id(&url, "")),
                None => Err(Error::new(
                    ErrorCode::NotSignedIn,
                    format!("Not signed in to {url}. Run `oxdrop login --server {url}` first."),
                )),
            }
        }
        None => settings
            .active_account()
            .map(|a| a.id.clone())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotSignedIn,
                    "Not signed in. Run `oxdrop login --server URL` first, or pass --server.",
                )
            }),
    }
}

pub async fn cmd_add(server: Option<&str>, args: WatchAddArgs, json: bool) -> Result<Exit, Error> {
    let ctx = context()?;
    let folder = std::path::absolute(&args.folder).unwrap_or(args.folder.clone());
    // By default the folder lands under its own name, as when it is dropped for an upload.
    let dest = match args.dest {
        Some(d) => RemotePath::parse(&d)?,
        None => RemotePath::root().join(&folder_name(&folder))?,
    };
    let destination = Destination {
        account_id: account_for(server)?,
        repo: RepoRef::parse(&args.repo)?,
        branch: args.branch,
        dest,
    };
    let rhythm = Rhythm::parse(&args.rhythm)?;
    if args.mirror_deletions && !args.yes {
        confirm_mirroring(&folder, &destination)?;
    }
    watch::check_destination(&ctx, &destination).await?;
    let watch = ctx.store.add(NewWatch {
        folder,
        destination,
        rhythm,
        mirror_deletions: args.mirror_deletions,
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&watch).map_err(Error::internal)?
        );
    } else {
        println!(
            "Watching {} → {} ({}). Watch {}.",
            watch.folder.display(),
            place(&watch.destination),
            watch.rhythm.describe(),
            short(&watch.id)
        );
        if watch.mirror_deletions {
            println!("Files deleted from the folder are removed from the repository too.");
        }
        println!("`oxdrop watch run` keeps it uploaded (the app does too, while it runs).");
    }
    Ok(Exit::Ok)
}

fn folder_name(folder: &Path) -> String {
    std::fs::canonicalize(folder)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "folder".into())
}

/// Mirroring deletions removes files from the repository: a person types "yes"; a script
/// passes `--yes`.
fn confirm_mirroring(folder: &Path, d: &Destination) -> Result<(), Error> {
    let refuse = || {
        Error::new(
            ErrorCode::InvalidInput,
            "--mirror-deletions removes files from the repository when they are deleted here. Confirm with --yes.",
        )
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse());
    }
    eprint!(
        "Files deleted from {} will also be removed from {} in the watch's next commit.\nType yes to confirm: ",
        folder.display(),
        place(d)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::internal)?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(refuse())
    }
}

pub fn cmd_list(json: bool) -> Result<Exit, Error> {
    let watches = context()?.store.load();
    if json {
        println!(
            "{}",
            serde_json::to_string(&watches).map_err(Error::internal)?
        );
    } else if watches.is_empty() {
        println!("No folders are watched. Add one with `oxdrop watch add FOLDER --repo NS/NAME`.");
    } else {
        for w in watches {
            let mut flags = Vec::new();
            if w.paused {
                flags.push("paused");
            }
            if w.mirror_deletions {
                flags.push("mirrors deletions");
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(", "))
            };
            println!(
                "{}  {} → {}  {}{}",
                short(&w.id),
                w.folder.display(),
                place(&w.destination),
                w.rhythm.describe(),
                flags
            );
        }
    }
    Ok(Exit::Ok)
}

pub async fn cmd_remove(id: &str) -> Result<Exit, Error> {
    let ctx = context()?;
    let watch = ctx.store.remove(id)?;
    watch::discard_watch_data(&ctx, &watch).await;
    println!(
        "Stopped watching {}. What it uploaded stays in {}.",
        watch.folder.display(),
        place(&watch.destination)
    );
    Ok(Exit::Ok)
}

pub fn cmd_pause(id: &str, paused: bool) -> Result<Exit, Error> {
    let watch = context()?.store.set_paused(id, paused)?;
    let what = if paused { "Paused" } else { "Resumed" };
    println!("{what} watching {}.", watch.folder.display());
    Ok(Exit::Ok)
}

pub fn cmd_resolve(id: &str, upload_mine: bool, paths: Vec<String>) -> Result<Exit, Error> {
    let resolution = if upload_mine {
        Resolution::UploadMine
    } else {
        Resolution::KeepTheirs
    };
    let paths = (!paths.is_empty()).then_some(paths);
    let n = watch::resolve_stopped(&context()?, id, resolution, paths.as_deref())?;
    match (n, resolution) {
        (0, _) => println!("No file of this watch was changed on the server by someone else."),
        (n, Resolution::UploadMine) => {
            println!("{n} file(s) will be uploaded over the server's version in the next commit.")
        }
        (n, Resolution::KeepTheirs) => {
            println!("{n} file(s) keep the server's version until they change here again.")
        }
    }
    Ok(Exit::Ok)
}

/// Runs every watch until Ctrl-C (or SIGTERM), printing each change of state.
pub async fn cmd_run(author: Option<&str>, json: bool) -> Result<Exit, Error> {
    let mut ctx = context()?;
    // The same engine knobs as `oxdrop upload` (OXDROP_PARALLEL, OXDROP_BATCH_FILES, …).
    ctx.tuning = super::upload::tuning_from_env();
    if let Some(text) = author {
        ctx.author = Some(connect::author(Some(text))?);
    }
    let watches: HashMap<String, Watch> = ctx
        .store
        .load()
        .into_iter()
        .map(|w| (w.id.clone(), w))
        .collect();
    if watches.is_empty() && !json {
        eprintln!(
            "No folders are watched yet; add one with `oxdrop watch add` (it starts here at once)."
        );
    }
    let store = ctx.store.clone();
    let engine = WatchEngine::start(ctx).await?;
    let mut updates = engine.subscribe();
    let mut shown: HashMap<String, (WatchState, String, Option<u8>)> = HashMap::new();
    for info in engine.list() {
        show(&info.status, &info.watch, json, &mut shown);
    }
    let mut names = watches;
    loop {
        tokio::select! {
            _ = stop_signal() => break,
            update = updates.recv() => match update {
                Ok(status) => {
                    if !names.contains_key(&status.id)
                        && let Ok(w) = store.find(&status.id)
                    {
                        names.insert(w.id.clone(), w);
                    }
                    if let Some(w) = names.get(&status.id) {
                        show(&status, w, json, &mut shown);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    if !json {
        eprintln!("Stopping… an upload in progress is finished at the next start.");
    }
    engine.stop().await;
    Ok(Exit::Ok)
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints a state change: every update as a JSON line, or a line for people when the state or
/// its words change (uploads in steps of 10%).
fn show(
    status: &WatchStatus,
    watch: &Watch,
    json: bool,
    shown: &mut HashMap<String, (WatchState, String, Option<u8>)>,
) {
    if json {
        if let Ok(line) = serde_json::to_string(status) {
            println!("{line}");
        }
        return;
    }
    let step = status.percent.map(|p| p / 10);
    let key = (status.state, status.summary.clone(), step);
    let seen = shown.get(&status.id);
    let same = match (seen, status.state) {
        (Some((WatchState::Uploading, _, s)), WatchState::Uploading) => *s == step,
        (Some(before), _) => before.0 == key.0 && before.1 == key.1,
        (None, _) => false,
    };
    if same {
        return;
    }
    shown.insert(status.id.clone(), key);
    let name = watch.folder.file_name().map_or_else(
        || watch.folder.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut line = format!("[{}] {name}: {}", short(&status.id), status.summary);
    if status.state == WatchState::UpToDate
        && let Some(c) = &status.last_commit
    {
        line.push_str(&format!(" (last commit {}: {})", short(&c.id), c.message));
    }
    if let Some(note) = &status.note {
        line.push_str(&format!(" — {note}"));
    }
    println!("{line}");
    for c in &status.conflicts {
        let by = c
            .commit
            .as_deref()
            .map(|id| format!(" in commit {}", short(id)))
            .unwrap_or_default();
        println!(
            "    {} changed on the server{by}; left as it is there",
            c.remote
        );
    }
    if !status.will_remove.is_empty() {
        println!(
            "    the next commit removes {} file(s): {}",
            status.will_remove_count,
            status.will_remove.join(", ")
        );
    }
}

fn place(d: &Destination) -> String {
    if d.dest.is_root() {
        format!("{}/{}", d.repo, d.branch)
    } else {
        format!("{}/{}:{}", d.repo, d.branch, d.dest)
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}
