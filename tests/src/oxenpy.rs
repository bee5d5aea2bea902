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

/// Downloads each `remote → local` pair with oxenai at `revision` and compares the bytes.
pub fn check(server_url: &str, repo: &str, revision: &str, expect: &[(String, PathBuf)]) -> Report {
    let (scheme, host) = server_url
        .split_once("://")
        .expect("server url with scheme");
    let expect: BTreeMap<&str, &Path> = expect
        .iter()
        .map(|(remote, local)| (remote.as_str(), local.as_path()))
        .collect();
    let request = serde_json::json!({
        "host": host, "scheme": scheme, "repo": repo, "revision": revision, "expect": expect,
    });
    let script = crate::repo_root().join("tests/py/oxen_check.py");
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
    let out = child.wait_with_output().expect("oxen_check.py");
    assert!(
        out.status.success(),
        "oxen_check.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad report ({e}): {}", String::from_utf8_lossy(&out.stdout)))
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
