//! `oxdrop`: the upload engine without a window, for scripts and testers.

mod commands;
mod connect;
mod exit;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use oxdrop_core::Error;

use crate::commands::{accounts, repos, upload, watch};
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
    Upload(UploadArgs),
    /// Resume an interrupted upload (the newest one, or the given id).
    Resume { id: Option<String> },
    /// Forget an interrupted upload, removing what it had sent from the server.
    Discard { id: String },
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
    /// Keep folders uploaded: each change becomes a commit, on a rhythm.
    Watch {
        #[command(subcommand)]
        command: WatchCommand,
    },
}

#[derive(Subcommand, Debug)]
enum WatchCommand {
    /// Keep a folder uploaded to a repository (`watch run`, or the app, does the uploading).
    Add(WatchAddArgs),
    /// List the watched folders.
    List,
    /// Stop watching a folder (what it uploaded stays in the repository).
    Remove { id: String },
    /// Stop uploading a folder's changes for now.
    Pause { id: String },
    /// Upload a paused folder's changes again.
    Resume { id: String },
    /// Settle files someone else changed on the server (while `watch run` is stopped).
    Resolve {
        id: String,
        /// Upload this computer's version over theirs in the next commit.
        #[arg(
            long,
            conflicts_with = "keep_theirs",
            required_unless_present = "keep_theirs"
        )]
        upload_mine: bool,
        /// Keep the server's version until the file changes here again.
        #[arg(long)]
        keep_theirs: bool,
        /// Only these files (relative to the folder); all of them by default.
        paths: Vec<String>,
    },
    /// Keep every watched folder uploaded until Ctrl-C, printing each change of state.
    Run {
        /// Commit author as "Name <email>" (default: $OXDROP_AUTHOR, or the saved author).
        #[arg(long, env = "OXDROP_AUTHOR")]
        author: Option<String>,
    },
}

#[derive(Args, Debug)]
struct WatchAddArgs {
    /// The folder to keep uploaded.
    folder: PathBuf,
    /// Repository, as namespace/name.
    #[arg(long)]
    repo: String,
    #[arg(long, default_value = "main")]
    branch: String,
    /// Folder in the repository its contents go to (default: the folder's own name).
    #[arg(long = "to")]
    dest: Option<String>,
    /// When to upload: settled:2m (once changes have settled for 2 minutes), every:1h, or
    /// daily (at most once a day, when something changed).
    #[arg(long, default_value = "settled:2m")]
    rhythm: String,
    /// Remove files from the repository when they are deleted from the folder (asks first).
    #[arg(long)]
    mirror_deletions: bool,
    /// Confirm --mirror-deletions without asking (for scripts).
    #[arg(long, requires = "mirror_deletions")]
    yes: bool,
}

// No doc comment here: the `Upload` variant's one is the subcommand's help.
#[derive(Args, Debug)]
struct UploadArgs {
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
    /// Show the plan and stop, sending nothing (with --json: the whole plan as JSON, including
    /// what is refused and what is left out, with the reason and the rule).
    #[arg(long)]
    dry_run: bool,
    /// Also upload what symbolic links leading outside a dropped folder point to (by default
    /// such links are left out and listed).
    #[arg(long)]
    follow_links: bool,
    /// Start over instead of resuming an interrupted upload of the same files.
    #[arg(long)]
    fresh: bool,
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

/// Runs one subcommand: each prints its own result; an error comes back for `main` to report.
async fn run(cli: Cli) -> Result<Exit, Error> {
    let json = cli.json;
    let server = cli.server.as_deref();
    match cli.command {
        Command::Upload(args) => upload::cmd_upload(server, args, json).await,
        Command::Resume { id } => upload::cmd_resume(server, id, json).await,
        Command::Discard { id } => upload::cmd_discard(server, &id).await,
        Command::Uploads => upload::cmd_uploads(json),
        Command::Login { user, insecure } => {
            accounts::cmd_login(server, user, insecure, json).await
        }
        Command::Logout { user } => accounts::cmd_logout(cli.server, user),
        Command::Accounts => accounts::cmd_accounts(json),
        Command::Author { author } => accounts::cmd_author(author),
        Command::CreateRepo { repo, description } => {
            repos::cmd_create_repo(server, &repo, description.as_deref(), json).await
        }
        Command::CreateBranch { repo, name, from } => {
            repos::cmd_create_branch(server, &repo, &name, &from, json).await
        }
        Command::Ls {
            target,
            path,
            branch,
        } => repos::cmd_ls(server, &target, &path, &branch, json).await,
        Command::Watch { command } => run_watch(server, command, json).await,
    }
}

async fn run_watch(server: Option<&str>, command: WatchCommand, json: bool) -> Result<Exit, Error> {
    match command {
        WatchCommand::Add(args) => watch::cmd_add(server, args, json).await,
        WatchCommand::List => watch::cmd_list(json),
        WatchCommand::Remove { id } => watch::cmd_remove(&id).await,
        WatchCommand::Pause { id } => watch::cmd_pause(&id, true),
        WatchCommand::Resume { id } => watch::cmd_pause(&id, false),
        WatchCommand::Resolve {
            id,
            upload_mine,
            paths,
            ..
        } => watch::cmd_resolve(&id, upload_mine, paths),
        WatchCommand::Run { author } => watch::cmd_run(author.as_deref(), json).await,
    }
}
