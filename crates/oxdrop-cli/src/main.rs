//! `oxdrop`: the upload engine without a window, for scripts and testers.

mod commands;
mod connect;
mod exit;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use oxdrop_core::Error;

use crate::commands::{accounts, repos, upload};
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
    }
}
