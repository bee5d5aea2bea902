//! `oxdrop`: the upload engine without a window, for scripts and testers.

mod connect;
mod exit;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use oxdrop_core::plan::{PlanRequest, make_plan};
use oxdrop_core::upload::{self, Tuning, UploadOptions};
use oxdrop_core::{Error, ErrorCode, RemotePath, RepoRef, app_dirs};
use tokio_util::sync::CancellationToken;

use crate::exit::Exit;

#[derive(Parser, Debug)]
#[command(
    name = "oxdrop",
    version,
    about = "Put files into Oxen repositories: one commit per upload.",
    after_help = exit::HELP
)]
struct Cli {
    /// Server address (default: the active account's, or $OXDROP_SERVER).
    #[arg(long = "server", global = true, env = "OXDROP_SERVER")]
    server: Option<String>,

    /// Print results as JSON on standard output.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Upload files and folders as one commit.
    Upload {
        /// Files and folders to upload. Folders keep their name and structure.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Repository, as namespace/name.
        #[arg(long)]
        repo: String,
        #[arg(long, default_value = "main")]
        branch: String,
        /// Folder in the repository (default: the top level).
        #[arg(long = "to", default_value = "")]
        dest: String,
        /// Commit message (default: generated from the files).
        #[arg(short, long, default_value = "")]
        message: String,
        /// Commit author as "Name <email>" (default: $OXDROP_AUTHOR, or the saved author).
        #[arg(long, env = "OXDROP_AUTHOR")]
        author: Option<String>,
        /// Show the plan and stop, sending nothing.
        #[arg(long)]
        dry_run: bool,
        /// Start over instead of resuming an interrupted upload of the same files.
        #[arg(long)]
        fresh: bool,
    },
    /// Resume an interrupted upload (the newest one, or the given id).
    Resume { id: Option<String> },
    /// List interrupted uploads that can be resumed.
    Uploads,
    /// Create a repository.
    CreateRepo {
        /// namespace/name
        repo: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Create a branch from another branch.
    CreateBranch {
        #[arg(long)]
        repo: String,
        /// The new branch.
        name: String,
        #[arg(long, default_value = "main")]
        from: String,
    },
    /// Sign in: the API key is read from standard input (or a hidden prompt) and kept in the
    /// OS keychain.
    /// (`--server` defaults to https://hub.oxen.ai here.)
    Login {
        /// Your user name (namespace) on the server.
        #[arg(long)]
        user: Option<String>,
        /// Allow sending the key over plain http:// to another computer.
        #[arg(long)]
        insecure: bool,
    },
    /// Sign out: delete the key from the keychain and forget the account.
    /// (`--server` defaults to the active account's.)
    Logout {
        #[arg(long)]
        user: Option<String>,
    },
    /// List signed-in accounts (* marks the active one).
    Accounts,
    /// Show or save the commit author, as "Name <email>".
    Author { author: Option<String> },
    /// List a folder of a repository, or the repositories of a namespace.
    Ls {
        /// namespace/name, or just a namespace.
        target: String,
        /// Folder inside the repository.
        #[arg(default_value = "")]
        path: String,
        #[arg(long, default_value = "main")]
        branch: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return exit::report(&Error::internal(e), false),
    };
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(code) => code.into(),
        Err(e) => exit::report(&e, json),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OXDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

async fn run(cli: Cli) -> Result<Exit, Error> {
    let json = cli.json;
    match cli.command {
        Command::Upload {
            paths,
            repo,
            branch,
            dest,
            message,
            author,
            dry_run,
            fresh,
        } => {
            let client = connect::client(cli.server.as_deref())?;
            let request = PlanRequest {
                repo: RepoRef::parse(&repo)?,
                branch,
                dest: RemotePath::parse(&dest)?,
                sources: paths
                    .iter()
                    .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                    .collect(),
            };
            let journal_dir = app_dirs::journal_dir().ok();
            if !fresh
                && !dry_run
                && let Some(dir) = &journal_dir
                && let Some(id) = connect::matching_interrupted(dir, &client, &request)
            {
                eprintln!(
                    "Resuming an interrupted upload of the same files (use --fresh to start over)."
                );
                return resume_upload(&client, dir, &id, json).await;
            }
            let plan = make_plan(&client, &request).await?;
            progress::print_plan(&plan, json);
            if dry_run {
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
            };
            let cancel = ctrl_c_cancels();
            let display = Arc::new(progress::Display::new(&plan, json));
            let outcome =
                upload::upload(&client, &request, &plan, &options, display.clone(), cancel).await;
            display.finish();
            let outcome = outcome?;
            Ok(progress::print_outcome(&outcome, json))
        }
        Command::Resume { id } => {
            let client = connect::client(cli.server.as_deref())?;
            let dir = app_dirs::journal_dir()?;
            let id = match id {
                Some(id) => id,
                None => upload::list_resumable(&dir)
                    .into_iter()
                    .find(|u| &u.server == client.server())
                    .map(|u| u.id)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NothingToUpload,
                            "There is no interrupted upload to resume.",
                        )
                    })?,
            };
            resume_upload(&client, &dir, &id, json).await
        }
        Command::Login { user, insecure } => {
            let server = cli
                .server
                .as_deref()
                .unwrap_or(oxdrop_core::server_url::HUB_URL);
            let account = connect::login(server, user, insecure).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&account).map_err(Error::internal)?
                );
            } else {
                println!(
                    "Signed in to {} as {}. The key is in the system keychain.",
                    account.server,
                    if account.user.is_empty() {
                        "(no user name)"
                    } else {
                        &account.user
                    }
                );
            }
            Ok(Exit::Ok)
        }
        Command::Logout { user } => {
            let server = match cli.server {
                Some(s) => s,
                None => connect::store()?
                    .load()
                    .active_account()
                    .map(|a| a.server.to_string())
                    .ok_or_else(|| {
                        Error::new(ErrorCode::NotSignedIn, "Not signed in to any server.")
                    })?,
            };
            for id in connect::logout(&server, user.as_deref())? {
                println!("Signed out {id}; its key was deleted from the keychain.");
            }
            Ok(Exit::Ok)
        }
        Command::Accounts => {
            let settings = connect::store()?.load();
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&settings.accounts).map_err(Error::internal)?
                );
            } else if settings.accounts.is_empty() {
                println!("No accounts. Sign in with `oxdrop login --server URL`.");
            } else {
                for a in &settings.accounts {
                    let mark = if settings.active.as_deref() == Some(a.id.as_str()) {
                        "*"
                    } else {
                        " "
                    };
                    println!("{mark} {}  {}", a.server, a.user);
                }
            }
            Ok(Exit::Ok)
        }
        Command::Author { author } => {
            let store = connect::store()?;
            let mut settings = store.load();
            if let Some(text) = author {
                let parsed = connect::parse_author(&text).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidInput,
                        "Write the author as \"Name <email>\".",
                    )
                })?;
                parsed.check()?;
                settings.author = Some(parsed);
                store.save(&settings)?;
            }
            match settings.author {
                Some(a) => println!("{} <{}>", a.name, a.email),
                None => println!("No author saved."),
            }
            Ok(Exit::Ok)
        }
        Command::Uploads => {
            let dir = app_dirs::journal_dir().ok();
            let list = dir.map(|d| upload::list_resumable(&d)).unwrap_or_default();
            if json {
                println!("{}", serde_json::to_string(&list).map_err(Error::internal)?);
            } else if list.is_empty() {
                println!("No interrupted uploads.");
            } else {
                for u in list {
                    println!(
                        "{}  {}/{}  {} of {} files sent  {} ({})",
                        u.id, u.repo, u.branch, u.files_sent, u.files_total, u.message, u.server
                    );
                }
            }
            Ok(Exit::Ok)
        }
        Command::CreateRepo { repo, description } => {
            let client = connect::client(cli.server.as_deref())?;
            let repo = RepoRef::parse(&repo)?;
            let created = client
                .create_repository(&repo, description.as_deref())
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&created).map_err(Error::internal)?
                );
            } else {
                println!("Created {}/{}", created.namespace, created.name);
            }
            Ok(Exit::Ok)
        }
        Command::CreateBranch { repo, name, from } => {
            let client = connect::client(cli.server.as_deref())?;
            let repo = RepoRef::parse(&repo)?;
            let branch = client.create_branch(&repo, &name, &from).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&branch).map_err(Error::internal)?
                );
            } else {
                println!(
                    "Created branch {} from {from} at {}",
                    branch.name,
                    short(&branch.commit_id)
                );
            }
            Ok(Exit::Ok)
        }
        Command::Ls {
            target,
            path,
            branch,
        } => {
            let client = connect::client(cli.server.as_deref())?;
            if !target.contains('/') {
                let repos = client.repositories(&target).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string(&repos).map_err(Error::internal)?
                    );
                } else {
                    for r in repos {
                        println!("{}/{}", r.namespace, r.name);
                    }
                }
                return Ok(Exit::Ok);
            }
            let repo = RepoRef::parse(&target)?;
            let entries = client
                .list_dir_all(&repo, &branch, &RemotePath::parse(&path)?)
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&entries).map_err(Error::internal)?
                );
            } else {
                for e in entries {
                    if e.is_dir {
                        println!("{:>12}  {}/", "", e.name);
                    } else {
                        println!("{:>12}  {}", e.size, e.name);
                    }
                }
            }
            Ok(Exit::Ok)
        }
    }
}

async fn resume_upload(
    client: &oxdrop_core::OxenClient,
    dir: &std::path::Path,
    id: &str,
    json: bool,
) -> Result<Exit, Error> {
    let cancel = ctrl_c_cancels();
    let display = Arc::new(progress::Display::plain(json));
    let outcome = upload::resume(client, dir, id, tuning_from_env(), display.clone(), cancel).await;
    display.finish();
    Ok(progress::print_outcome(&outcome?, json))
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
fn tuning_from_env() -> Tuning {
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

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}
