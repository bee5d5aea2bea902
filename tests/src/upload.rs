//! Shortcuts for tests that upload: plan + upload in one call, and the expected remote → local
//! pairs for the independent check.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use oxdrop_core::model::Author;
use oxdrop_core::plan::{Plan, PlanRequest, make_plan};
use oxdrop_core::upload::{self, ProgressSnapshot, Tuning, UploadOptions, UploadOutcome};
use oxdrop_core::{OxenClient, RemotePath, RepoRef, Result};
use tokio_util::sync::CancellationToken;

use crate::OxenServer;

/// What most upload tests start from: a server of their own, a client for it, a new repository
/// and a folder for the files to upload. Destructure it binding every field (`server: _server`
/// where a test doesn't use it): a field bound to `_` is dropped at once, and the server with it.
#[derive(Debug)]
pub struct Fixture {
    pub server: OxenServer,
    pub client: OxenClient,
    pub repo: RepoRef,
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    /// Starts the server and creates a repository named `prefix-<8 hex>`.
    pub async fn new(prefix: &str) -> Fixture {
        let server = OxenServer::start();
        let client = server.client();
        let repo = server.new_repo(prefix).await;
        let tmp = tempfile::tempdir().expect("temp folder");
        Fixture {
            server,
            client,
            repo,
            tmp,
        }
    }
}

pub fn author() -> Author {
    Author {
        name: "Test Author".into(),
        email: "author@example.com".into(),
    }
}

pub fn request(repo: &RepoRef, branch: &str, dest: &str, sources: &[PathBuf]) -> PlanRequest {
    PlanRequest {
        repo: repo.clone(),
        branch: branch.into(),
        dest: RemotePath::parse(dest).expect("dest"),
        sources: sources.to_vec(),
        follow_links: false,
        ignore_patterns: Vec::new(),
        contents: None,
    }
}

pub fn options(message: &str) -> UploadOptions {
    UploadOptions {
        message: message.into(),
        author: author(),
        tuning: Tuning::default(),
        journal_dir: None,
        ..UploadOptions::default()
    }
}

/// Fires `token` (a cancel or a pause) once `recorder` has seen more than `bytes` sent: an
/// upload visibly under way.
pub fn fire_when_sent(recorder: Arc<Recorder>, token: CancellationToken, bytes: u64) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if recorder.snapshots().iter().any(|s| s.bytes_done > bytes) {
                token.cancel();
                return;
            }
        }
    });
}

/// Every progress snapshot, for assertions.
#[derive(Default, Debug)]
pub struct Recorder(pub Mutex<Vec<ProgressSnapshot>>);

impl upload::ProgressSink for Recorder {
    fn progress(&self, s: ProgressSnapshot) {
        self.0.lock().expect("recorder").push(s);
    }
}

impl Recorder {
    pub fn snapshots(&self) -> Vec<ProgressSnapshot> {
        self.0.lock().expect("recorder").clone()
    }
}

/// Uploads a plan made earlier (the user reviewed it), without progress.
pub async fn send(
    client: &OxenClient,
    request: &PlanRequest,
    plan: &Plan,
    options: &UploadOptions,
) -> Result<UploadOutcome> {
    upload::upload(
        client,
        request,
        plan,
        options,
        Arc::new(upload::NoProgress),
        CancellationToken::new(),
    )
    .await
}

/// Plans and uploads `sources` to `dest` on `branch`.
pub async fn upload_paths(
    client: &OxenClient,
    repo: &RepoRef,
    branch: &str,
    dest: &str,
    sources: &[PathBuf],
    message: &str,
) -> Result<(Plan, UploadOutcome)> {
    plan_and_upload(client, &request(repo, branch, dest, sources), message).await
}

/// Plans and uploads what `req` asks for (for requests with options of their own).
pub async fn plan_and_upload(
    client: &OxenClient,
    req: &PlanRequest,
    message: &str,
) -> Result<(Plan, UploadOutcome)> {
    let plan = make_plan(client, req).await?;
    let outcome = send(client, req, &plan, &options(message)).await?;
    Ok((plan, outcome))
}

/// `(remote path, local path)` for files `rel` under `local_root`, uploaded below `remote_root`.
pub fn pairs(remote_root: &str, local_root: &Path, rel: &[PathBuf]) -> Vec<(String, PathBuf)> {
    rel.iter()
        .map(|r| {
            let remote = Path::new(remote_root).join(r);
            (remote.to_string_lossy().into_owned(), local_root.join(r))
        })
        .collect()
}
