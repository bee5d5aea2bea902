//! A real `oxen-server` on a free loopback port with a fresh sync dir, stopped by PID on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use oxdrop_core::{ApiKey, OxenClient, RepoRef, ServerUrl};
use tempfile::TempDir;

pub const OXEN_SERVER_VERSION: &str = "0.65.2";

/// Where the server binary is: `OXEN_SERVER_BIN`, else the setup script's cache, else `PATH`.
pub fn oxen_server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("OXEN_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let cache = crate::tools_dir()
        .join(format!("oxen-server-{OXEN_SERVER_VERSION}-dev"))
        .join("bin/oxen-server");
    if cache.exists() {
        return cache;
    }
    PathBuf::from("oxen-server")
}

#[derive(Debug)]
pub struct OxenServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
}

impl OxenServer {
    /// Starts a server and waits until `/api/health` answers. Panics with the server's log if it
    /// does not come up within a minute.
    pub fn start() -> OxenServer {
        Self::start_in(
            tempfile::Builder::new()
                .prefix("oxdrop-server-")
                .tempdir()
                .expect("temp dir"),
        )
    }

    /// [`OxenServer::start`] with the server's data in memory where possible: for tens of
    /// thousands of tiny files (see [`crate::fixtures::memory_tempdir`]).
    pub fn start_in_memory() -> OxenServer {
        Self::start_in(crate::fixtures::memory_tempdir("oxdrop-server-"))
    }

    fn start_in(mut dir: TempDir) -> OxenServer {
        std::fs::create_dir_all(dir.path().join("sync")).expect("sync dir");
        std::fs::create_dir_all(dir.path().join("config")).expect("config dir");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut server = OxenServer {
                child: None,
                port,
                dir,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => {
                    last_error = e;
                    dir = server.take_dir();
                }
            }
        }
        panic!("oxen-server did not start: {last_error}");
    }

    fn take_dir(mut self) -> TempDir {
        self.kill_child();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| e.to_string())?;
        let bin = oxen_server_bin();
        let child = Command::new(&bin)
            .args(["--config-dir"])
            .arg(self.dir.path().join("config"))
            .args([
                "start",
                "--ip",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
            ])
            .env("SYNC_DIR", self.sync_dir())
            .env("RUST_LOG", "warn")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                format!(
                    "could not run {} ({e}); run the setup script, or set OXEN_SERVER_BIN",
                    bin.display()
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("exited with {status}: {}", self.log_tail(2000)));
            }
            if health_ok(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("no answer on /api/health: {}", self.log_tail(2000)))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn server_url(&self) -> ServerUrl {
        ServerUrl::parse(&self.url()).expect("server url")
    }

    pub fn sync_dir(&self) -> PathBuf {
        self.dir.path().join("sync")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log_tail(&self, bytes: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let start = text.len().saturating_sub(bytes);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// A client for this server with a throwaway key (oxen-server checks none).
    pub fn client(&self) -> OxenClient {
        OxenClient::new(self.server_url(), ApiKey::new("test-key-not-checked")).expect("client")
    }

    /// A fresh, empty repository no other test uses.
    pub async fn new_repo(&self, prefix: &str) -> RepoRef {
        let repo = RepoRef::new("oxdrop-tests", &crate::unique_name(prefix)).expect("repo name");
        self.client()
            .create_repository(&repo, None)
            .await
            .expect("create repo");
        repo
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
    pub fn stop(&mut self) {
        self.kill_child();
    }

    /// Kills the server at once, as a crash would.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and sync dir.
    pub fn restart(&mut self) {
        self.kill_child();
        self.spawn_and_wait()
            .unwrap_or_else(|e| panic!("oxen-server did not restart: {e}"));
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn kill_child(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for OxenServer {
    fn drop(&mut self) {
        self.kill_child();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `GET /api/health` with a plain socket, so the harness does not depend on the code under test.
fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().expect("addr"),
        Duration::from_millis(500),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: oxdrop-test-harness/1.0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
