//! A watched folder at work: `oxdrop watch add` once, then the real `oxdrop watch run` process
//! (killable, restartable), and what the branch's history says it did.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use oxdrop_core::model::Commit;
use oxdrop_core::{ErrorCode, OxenClient, RemotePath, RepoRef};
use tempfile::TempDir;

use crate::OxenServer;
use crate::cli::CliUser;

/// Where a watch puts the folder's contents in the repository.
pub const DEST: &str = "runs";

/// One user, one server, one repository, one watched folder.
#[derive(Debug)]
pub struct Watched {
    pub server: OxenServer,
    pub user: CliUser,
    pub repo: RepoRef,
    pub folder: PathBuf,
    pub watch_id: String,
    rt: tokio::runtime::Runtime,
    run: Option<Running>,
    _tmp: TempDir,
}

#[derive(Debug)]
struct Running {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Watched {
    /// A folder named `instrument` holding `files` (relative path, bytes) before the watch is
    /// added with `oxdrop watch add … extra`. Uploads once changes settled for 2 s unless `extra`
    /// sets another `--rhythm`.
    pub fn new(files: &[(&str, &[u8])], extra: &[&str]) -> Watched {
        let server = OxenServer::start();
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let repo = rt.block_on(server.new_repo("watch"));
        let tmp = tempfile::tempdir().expect("temp");
        let folder = tmp.path().join("instrument");
        std::fs::create_dir_all(&folder).expect("folder");
        for (rel, bytes) in files {
            write(&folder.join(rel), bytes);
        }
        // The shipped waits (3 s for a file to settle); only the rhythm is short. A shorter
        // OXDROP_TIME_SCALE would shorten the server's time to answer too, and a busy test
        // machine needs it.
        let user = CliUser::new().with_env("OXDROP_AUTHOR", "Watcher <watch@example.com>");
        let url = server.url();
        let repo_arg = repo.to_string();
        let mut args = vec![
            "--server",
            &url,
            "--json",
            "watch",
            "add",
            folder.to_str().expect("utf-8"),
            "--repo",
            &repo_arg,
            "--to",
            DEST,
        ];
        if !extra.contains(&"--rhythm") {
            args.extend(["--rhythm", "settled:2s"]);
        }
        args.extend_from_slice(extra);
        let added = user.run(&args);
        assert_eq!(added.code, 0, "{added:?}");
        let watch: serde_json::Value = serde_json::from_str(&added.stdout).expect("watch json");
        let watch_id = watch["id"].as_str().expect("id").to_owned();
        Watched {
            server,
            user,
            repo,
            folder,
            watch_id,
            rt,
            run: None,
            _tmp: tmp,
        }
    }

    /// Starts `oxdrop watch run`, its output collected line by line.
    pub fn start(&mut self) {
        assert!(self.run.is_none(), "already running");
        let mut child = self
            .user
            .command(&["watch", "run"])
            .env("OXDROP_LOG", "warn,oxdrop_core::watch=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("oxdrop watch run (cargo build --bins first)");
        let out = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().expect("output");
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        self.run = Some(Running { child, out });
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.run.as_ref().expect("running").child.id() as i32)
    }

    /// SIGKILL, as a crash or a power cut would stop it.
    pub fn kill(&mut self) {
        if let Some(mut r) = self.run.take() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }

    /// What `watch run` printed so far.
    pub fn output(&self) -> String {
        self.run
            .as_ref()
            .map(|r| r.out.lock().expect("output").clone())
            .unwrap_or_default()
    }

    /// The branch's commits, newest first (none while the branch does not exist yet), without
    /// the empty commit oxen-server starts a repository's history with at its first upload.
    pub fn commits(&self) -> Vec<Commit> {
        let mut commits = self
            .rt
            .block_on(self.server.client().commits(&self.repo, "main", 100))
            .unwrap_or_default();
        commits.retain(|c| !(c.parent_ids.is_empty() && c.author == "Oxen"));
        commits
    }

    /// Waits until the branch has `n` commits, and returns them newest first.
    pub fn wait_for_commits(&self, n: usize, within: Duration) -> Vec<Commit> {
        let started = Instant::now();
        loop {
            let commits = self.commits();
            if commits.len() >= n {
                return commits;
            }
            assert!(
                started.elapsed() < within,
                "{} commits after {within:?}, waited for {n}: {:?}\n--- watch run said:\n{}",
                commits.len(),
                commits.iter().map(|c| &c.message).collect::<Vec<_>>(),
                self.output()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until `watch run` has printed `needle`.
    pub fn wait_for_output(&self, needle: &str, within: Duration) -> String {
        self.wait_for_line(needle, within, |out| out.contains(needle))
    }

    /// Waits until what `watch run` printed satisfies `done` (`what` says what for the panic).
    pub fn wait_for_line(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let out = self.output();
            if done(&out) {
                return out;
            }
            assert!(
                started.elapsed() < within,
                "no '{what}' after {within:?}; watch run said:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Files under the watch's folder in the repository at `revision`: path → (size, hash).
    pub fn files_at(&self, revision: &str) -> BTreeMap<String, (u64, String)> {
        let client = self.server.client();
        self.rt
            .block_on(remote_files(&client, &self.repo, revision, DEST))
    }

    /// What a commit added, changed or removed (paths relative to the folder).
    pub fn changed_in(&self, commit: &Commit) -> Vec<String> {
        let after = self.files_at(&commit.id);
        let before = commit
            .parent_ids
            .first()
            .map(|p| self.files_at(p))
            .unwrap_or_default();
        let mut changed: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .chain(before.keys().filter(|k| !after.contains_key(*k)).cloned())
            .collect();
        changed.sort();
        changed
    }

    /// Asserts the branch stays at `n` commits for `quiet`.
    pub fn assert_no_more_commits(&self, n: usize, quiet: Duration) {
        std::thread::sleep(quiet);
        let commits = self.commits();
        assert_eq!(
            commits.len(),
            n,
            "unexpected commits: {:?}\n--- watch run said:\n{}",
            commits.iter().map(|c| &c.message).collect::<Vec<_>>(),
            self.output()
        );
    }

    /// Someone else commits `bytes` at `path` on the branch (oxenai), as "Colleague".
    pub fn colleague_puts(&self, path: &str, bytes: &[u8], message: &str) {
        crate::oxenpy::commit_as(
            &self.server.url(),
            &self.repo.to_string(),
            "main",
            ("Colleague", "colleague@example.com"),
            message,
            crate::oxenpy::Change::Put(path, bytes),
        );
    }

    /// SIGSTOP, and waits until every thread has stopped (the signal is not synchronous: a
    /// thread still running could read a notification after `kill` returned).
    pub fn stop_process(&self) {
        let _ = kill(self.pid(), Signal::SIGSTOP);
        let tasks = PathBuf::from(format!("/proc/{}/task", self.pid()));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let all_stopped = std::fs::read_dir(&tasks)
                .expect("tasks")
                .filter_map(Result::ok)
                .all(|t| {
                    let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                    // The state follows the command's closing parenthesis.
                    let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
                    matches!(state, Some('T' | 't'))
                });
            if all_stopped {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("watch run did not stop");
    }

    pub fn continue_process(&self) {
        let _ = kill(self.pid(), Signal::SIGCONT);
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.run.is_some() {
            let _ = kill(self.pid(), Signal::SIGCONT);
        }
        self.kill();
    }
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    std::fs::write(path, bytes).expect("write");
}

/// Every file under `folder` of `repo` at `revision`, relative to it: path → (size, hash). Empty
/// when the folder is not there at that revision (the first commit's parent, a removed folder).
pub async fn remote_files(
    client: &OxenClient,
    repo: &RepoRef,
    revision: &str,
    folder: &str,
) -> BTreeMap<String, (u64, String)> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![RemotePath::parse(folder).expect("folder")];
    while let Some(dir) = dirs.pop() {
        let entries = match client.list_dir_all(repo, revision, &dir).await {
            Ok(entries) => entries,
            Err(e) if e.code == ErrorCode::PathNotFound => continue,
            Err(e) => panic!("listing {dir} at {revision}: {}", e.log_line()),
        };
        for e in entries {
            if e.is_dir {
                dirs.push(e.path);
            } else {
                let rel = e.path.as_str()[folder.len() + 1..].to_owned();
                files.insert(rel, (e.size, e.hash.unwrap_or_default()));
            }
        }
    }
    files
}
