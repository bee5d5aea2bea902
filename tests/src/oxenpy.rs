//! Oxen's own Python client (`oxenai`, installed by the setup script) as an independent checker:
//! what OxDrop uploaded is read back through a client that shares none of our code.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The venv interpreter with `oxenai`: `OXDROP_PYTHON`, else the setup script's venv.
pub fn python() -> PathBuf {
    if let Ok(py) = std::env::var("OXDROP_PYTHON") {
        return PathBuf::from(py);
    }
    crate::tools_dir().join("venv-oxenai-0.65.1/bin/python")
}

#[derive(Debug, Deserialize)]
pub struct Missing {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Deserialize)]
pub struct LogEntry {
    pub id: String,
    pub message: String,
    pub author: String,
    pub email: String,
}

#[derive(Debug, Deserialize)]
pub struct Report {
    pub checked: usize,
    pub mismatched: Vec<String>,
    pub missing: Vec<Missing>,
    /// Every file path at the revision.
    pub tree: Vec<String>,
    /// Newest first.
    pub log: Vec<LogEntry>,
}

/// Downloads each `remote → local` pair with oxenai at `revision` and compares the bytes. Whole
/// top-level folders are downloaded (oxenai fetches them in parallel), so every file under them
/// is read back.
pub fn check(server_url: &str, repo: &str, revision: &str, expect: &[(String, PathBuf)]) -> Report {
    check_with(server_url, repo, revision, expect, "folders")
}

/// [`check`], downloading only the expected files, each on its own: samples out of a folder too
/// big to download in a test (50,000 files).
pub fn check_files(
    server_url: &str,
    repo: &str,
    revision: &str,
    expect: &[(String, PathBuf)],
) -> Report {
    check_with(server_url, repo, revision, expect, "files")
}

fn check_with(
    server_url: &str,
    repo: &str,
    revision: &str,
    expect: &[(String, PathBuf)],
    download: &str,
) -> Report {
    let expect: BTreeMap<&str, &Path> = expect
        .iter()
        .map(|(remote, local)| (remote.as_str(), local.as_path()))
        .collect();
    let out = run_script(
        "oxen_check.py",
        server_url,
        serde_json::json!({
            "repo": repo, "revision": revision, "expect": expect, "download": download,
        }),
    );
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("bad report ({e}): {}", String::from_utf8_lossy(&out)))
}

/// What a collaborator's commit does to one path.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// Writes these bytes to the path (a new file, or new content).
    Put(&'a str, &'a [u8]),
    Delete(&'a str),
}

/// Someone else at work on the branch: one commit made with oxenai, as `author` (name, email),
/// sharing none of OxDrop's code. Returns the branch's new head.
pub fn commit_as(
    server_url: &str,
    repo: &str,
    branch: &str,
    author: (&str, &str),
    message: &str,
    change: Change<'_>,
) -> String {
    let tmp = tempfile::tempdir().expect("temp folder");
    let mut request = serde_json::json!({
        "repo": repo, "branch": branch, "message": message,
        "author": {"name": author.0, "email": author.1},
    });
    match change {
        Change::Put(remote, bytes) => {
            let name = remote.rsplit('/').next().unwrap_or(remote);
            let local = tmp.path().join(name);
            std::fs::write(&local, bytes).expect("collaborator's file");
            request["put"] = serde_json::json!({ remote: local });
        }
        Change::Delete(remote) => request["delete"] = remote.into(),
    }
    let out = run_script("oxen_commit.py", server_url, request);
    #[derive(Deserialize)]
    struct Made {
        commit: String,
    }
    let made: Made = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("bad answer ({e}): {}", String::from_utf8_lossy(&out)));
    made.commit
}

/// Runs one of the oxenai scripts in `tests/py` with `request` (plus the server's host and
/// scheme) on standard input; returns its standard output.
fn run_script(script: &str, server_url: &str, mut request: serde_json::Value) -> Vec<u8> {
    let (scheme, host) = server_url
        .split_once("://")
        .expect("server url with scheme");
    request["host"] = host.into();
    request["scheme"] = scheme.into();
    let script = crate::repo_root().join("tests/py").join(script);
    let home = tempfile::tempdir().expect("temp home");
    // oxenai reads and writes ~/.config/oxen; keep the user's (and other tests') out of it.
    let mut child = Command::new(python())
        .arg(&script)
        .env("HOME", home.path())
        .env("OXEN_CONFIG_DIR", home.path().join("oxen-config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); run the setup script",
                python().display()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("oxenai script");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Asserts that every expected file reads back byte for byte.
pub fn assert_uploaded(
    server_url: &str,
    repo: &str,
    revision: &str,
    expect: &[(String, PathBuf)],
) -> Report {
    let report = check(server_url, repo, revision, expect);
    assert!(
        report.missing.is_empty(),
        "missing per oxenai: {:?}",
        report.missing
    );
    assert!(
        report.mismatched.is_empty(),
        "bytes differ per oxenai: {:?}",
        report.mismatched
    );
    assert_eq!(report.checked, expect.len());
    report
}
