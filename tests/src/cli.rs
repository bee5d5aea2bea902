//! Running the `oxdrop` command line as a user would, with its own config folder and keychain
//! service so tests never touch a person's real accounts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub fn cli_bin() -> PathBuf {
    std::env::var_os("OXDROP_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target/debug/oxdrop"))
}

/// One user's OxDrop: a config folder, a data folder and a keychain service of its own.
#[derive(Debug)]
pub struct CliUser {
    pub home: TempDir,
    pub keychain_service: String,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliUser {
    pub fn new() -> CliUser {
        CliUser {
            home: tempfile::Builder::new()
                .prefix("oxdrop-cli-")
                .tempdir()
                .expect("home"),
            keychain_service: crate::unique_name("OxDrop-test"),
            env: Vec::new(),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    pub fn with_env(mut self, key: &str, value: &str) -> CliUser {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cli_bin());
        cmd.args(args)
            .env("OXDROP_CONFIG_DIR", self.config_dir())
            .env("OXDROP_DATA_DIR", self.data_dir())
            .env("OXDROP_KEYCHAIN_SERVICE", &self.keychain_service)
            .env_remove("OXDROP_API_KEY")
            .env_remove("OXDROP_SERVER")
            .env_remove("OXDROP_AUTHOR");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `oxdrop args…` with `stdin` piped in.
    pub fn run_with(&self, cmd: &mut Command, stdin: &str) -> Run {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}); cargo build --bins first",
                    cli_bin().display()
                )
            });
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin");
        finish(child)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(&mut self.command(args), "")
    }

    /// `oxdrop login` with the key on standard input.
    pub fn login(&self, server: &str, user: &str, key: &str) -> Run {
        self.run_with(
            &mut self.command(&["--server", server, "login", "--user", user]),
            key,
        )
    }

    /// `secret-tool lookup` of this user's entry for `account_id`: read from outside OxDrop.
    pub fn keychain_lookup(&self, account_id: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args([
                "lookup",
                "service",
                &self.keychain_service,
                "username",
                account_id,
            ])
            .output()
            .expect("secret-tool (libsecret-tools)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `oxdrop args…` sending one small file per request, one request at a time, so that a
    /// test can act while it is under way.
    pub fn spawn_slow_upload(&self, args: &[&str]) -> Child {
        self.command(args)
            .env("OXDROP_PARALLEL", "1")
            .env("OXDROP_BATCH_FILES", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} ({e})", cli_bin().display()))
    }

    /// Waits until the running upload's journal shows at least `staged` files on the server, and
    /// returns what it says. Panics if `child` ends first.
    pub fn wait_for_staged(&self, child: &mut Child, staged: usize) -> Journaled {
        let what = format!("{staged} files were staged");
        wait_while_running(child, &what, || {
            self.journaled().filter(|j| j.staged.len() >= staged)
        })
    }

    /// This user's one journaled upload, if any.
    pub fn journaled(&self) -> Option<Journaled> {
        let dir = self.data_dir().join("uploads");
        let entry = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".state.json"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name.strip_suffix(".state.json")?.to_owned();
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{id}.plan.json"))).ok()?)
                .ok()?;
        let files = plan["plan"]["files"].as_array()?;
        let staged = state["staged"]
            .as_array()?
            .iter()
            .filter_map(|i| files.get(i.as_u64()? as usize)?["remote"].as_str())
            .map(str::to_owned)
            .collect();
        Some(Journaled {
            id,
            workspace_id: state["workspace_id"].as_str()?.to_owned(),
            staged,
        })
    }

    /// Every file OxDrop wrote (settings, logs, journals) contains `needle`?
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        files_containing(self.home.path(), needle)
    }
}

/// What an interrupted upload's journal says.
#[derive(Debug, Clone)]
pub struct Journaled {
    pub id: String,
    pub workspace_id: String,
    /// Repository paths of the files already staged in the workspace.
    pub staged: Vec<String>,
}

/// Polls `reached` until it gives a value, while the spawned `oxdrop` runs. Panics if the command
/// ends first or two minutes go by: "the command ended before <what>".
pub fn wait_while_running<T>(
    child: &mut Child,
    what: &str,
    mut reached: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = reached() {
            return value;
        }
        if let Some(status) = child.try_wait().expect("child") {
            panic!("the command ended ({status}) before {what}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still not {what} after two minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a spawned `oxdrop` and collects its output.
pub fn finish(child: Child) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("oxdrop");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Default for CliUser {
    fn default() -> Self {
        CliUser::new()
    }
}

/// Files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path);
            }
        }
    }
    hits
}
