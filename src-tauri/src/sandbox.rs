//! The local practice server that `scripts/run-app` prepares in the background. The script keeps
//! its state in a small JSON file (`OXDROP_SANDBOX_STATUS`); reading it on demand lets the sign-in
//! screen say "being prepared, about N minutes left" and offer the sandbox the moment it is
//! ready, without restarting the app.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use oxdrop_core::{Error, ErrorCode, ServerUrl};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How much of the end of the log the sign-in screen can show.
const LOG_TAIL_BYTES: u64 = 16 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SandboxState {
    /// Its server is being compiled (the first time on a machine).
    Building,
    /// Built; the server is starting.
    Starting,
    /// Answering: it can be signed in to.
    Ready,
    /// The build or the server failed; the log says why.
    Failed,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SandboxStatus {
    pub state: SandboxState,
    pub url: ServerUrl,
    /// Whole minutes, while building, when the script can estimate them.
    pub minutes_left: Option<u32>,
    /// A sentence for people, from the script.
    pub message: String,
    /// Where its log is, to name in a failure.
    pub log: Option<String>,
}

/// The file the script writes (see scripts/sandbox.sh).
#[derive(Debug, Deserialize)]
struct StatusFile {
    state: SandboxState,
    #[serde(default)]
    minutes_left: Option<u32>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    log: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Sandbox {
    url: ServerUrl,
    status_file: Option<PathBuf>,
}

impl Sandbox {
    /// The sandbox the run script announced, if any. Only a server on this computer qualifies:
    /// signing in to it needs no key, so it must never point elsewhere.
    pub fn from_env() -> Option<Sandbox> {
        let url = std::env::var("OXDROP_SANDBOX_URL")
            .ok()
            .and_then(|s| ServerUrl::parse(&s).ok())
            .filter(ServerUrl::is_loopback)?;
        let status_file = std::env::var_os("OXDROP_SANDBOX_STATUS").map(PathBuf::from);
        Some(Sandbox { url, status_file })
    }

    pub fn url(&self) -> &ServerUrl {
        &self.url
    }

    /// Its state now. Without a status file the script started a server that is already
    /// running (the old contract); a status file that is missing or half-written means the
    /// script is still setting it up.
    pub fn status(&self) -> SandboxStatus {
        let Some(path) = &self.status_file else {
            return self.with(SandboxState::Ready, None, String::new(), None);
        };
        match std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<StatusFile>(&b).ok())
        {
            Some(f) => self.with(f.state, f.minutes_left, f.message, f.log),
            None => self.with(
                SandboxState::Building,
                None,
                "Preparing the local sandbox…".into(),
                None,
            ),
        }
    }

    /// The end of its log (the build's, or the server's), for "Show log".
    pub fn log_tail(&self) -> Result<String, Error> {
        let Some(log) = self.status().log else {
            return Ok(String::new());
        };
        let path = PathBuf::from(&log);
        let read = || -> std::io::Result<String> {
            let mut file = std::fs::File::open(&path)?;
            let len = file.metadata()?.len();
            file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            // Start at a whole line when the tail was cut.
            Ok(match (len > LOG_TAIL_BYTES, text.split_once('\n')) {
                (true, Some((_, rest))) => rest.to_owned(),
                _ => text,
            })
        };
        read().map_err(|e| Error::local_io("read", &path, &e).retryable(false))
    }

    fn with(
        &self,
        state: SandboxState,
        minutes_left: Option<u32>,
        message: String,
        log: Option<String>,
    ) -> SandboxStatus {
        SandboxStatus {
            state,
            url: self.url.clone(),
            minutes_left,
            message,
            log,
        }
    }
}

/// No sandbox was started with this app.
pub fn none() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "There is no local sandbox: start OxDrop with scripts/run-app to get one.",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sandbox(file: Option<PathBuf>) -> Sandbox {
        Sandbox {
            url: ServerUrl::parse("http://127.0.0.1:3111").unwrap(),
            status_file: file,
        }
    }

    #[test]
    fn reads_the_scripts_status_file() {
        let dir = tempfile::tempdir().unwrap();
        let status = dir.path().join("status.json");
        let log = dir.path().join("build.log");
        let lines: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, lines).unwrap();
        let s = sandbox(Some(status.clone()));
        // Not written yet: still being prepared.
        assert_eq!(s.status().state, SandboxState::Building);
        std::fs::write(
            &status,
            serde_json::json!({"state":"building","url":"http://127.0.0.1:3111","log":log,
                "started_unix":1,"minutes_left":12,"message":"Preparing"})
            .to_string(),
        )
        .unwrap();
        let st = s.status();
        assert_eq!(
            (st.state, st.minutes_left, st.message.as_str()),
            (SandboxState::Building, Some(12), "Preparing")
        );
        let tail = s.log_tail().unwrap();
        assert!(tail.starts_with("line ") && tail.ends_with("line 4999\n"));
        assert!(tail.len() as u64 <= LOG_TAIL_BYTES && !tail.contains("line 10\n"));
        std::fs::write(&status, r#"{"state":"ready","minutes_left":null}"#).unwrap();
        assert_eq!(s.status().state, SandboxState::Ready);
        assert_eq!(s.log_tail().unwrap(), "");
    }

    #[test]
    fn without_a_status_file_the_server_is_already_running() {
        assert_eq!(sandbox(None).status().state, SandboxState::Ready);
    }
}
