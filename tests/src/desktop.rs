//! The real OxDrop window for end-to-end tests: a private X display (Xvfb), tauri-driver in front
//! of WebKitWebDriver, a WebDriver session on the app, and xdotool for what WebDriver cannot reach
//! (native dialogs, OS drags). Every process is killed on drop, even when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;

use crate::server::free_port;

/// How long a window the test waits for (the app's, a native dialog, a helper's) may take to be
/// shown: far longer than any takes on a loaded machine; past it the test fails and says so.
pub const WINDOW_WAIT: Duration = Duration::from_secs(60);

/// How long one xdotool command may run.
const XDOTOOL_LIMIT: Duration = Duration::from_secs(60);

/// How long WebDriver may take to start a session on the app.
const SESSION_WAIT: Duration = Duration::from_secs(90);

/// The app under test: `OXDROP_APP_BIN`, else the workspace's debug build.
pub fn app_bin() -> PathBuf {
    std::env::var_os("OXDROP_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("target/debug/oxdrop-app"))
}

pub fn tauri_driver_bin() -> PathBuf {
    std::env::var_os("OXDROP_TAURI_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::tools_dir().join("tauri-driver-2.1.0/bin/tauri-driver"))
}

/// Where screenshots and logs of the run go: `$OXDROP_ARTIFACTS`, else `test-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("OXDROP_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("test-artifacts"));
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

#[derive(Debug)]
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The notifications sent on the session bus while it lives (watched with dbus-monitor): what
/// the desktop would show. Other tests' apps may share the bus, so look for words only this
/// test's app would say.
#[derive(Debug)]
pub struct Notifications {
    log: PathBuf,
    _dir: TempDir,
    _monitor: Killed,
}

impl Notifications {
    pub fn watch() -> Notifications {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("dbus-monitor.txt");
        let monitor = Command::new("dbus-monitor")
            .args(["--session", "interface='org.freedesktop.Notifications'"])
            .stdout(std::fs::File::create(&log).expect("monitor log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (run the setup script)");
        Notifications {
            log,
            _dir: dir,
            _monitor: Killed(monitor),
        }
    }

    /// Waits (at most `timeout`) until a notification holding `text` was sent; returns all the
    /// monitor saw.
    pub async fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = std::fs::read_to_string(&self.log).unwrap_or_default();
            if seen.contains("Notify") && seen.contains(text) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "no notification saying {text:?}:\n{seen}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// tauri-driver in a process group of its own, killed whole when dropped: WebKitWebDriver and
/// the app it started go with it, instead of living on (and holding ports) after the test.
struct KilledGroup(Child);

impl Drop for KilledGroup {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

/// What the app is started with.
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// Offered on the sign-in screen as the local sandbox.
    pub sandbox: Option<String>,
    /// Reuse these settings/data folders (to restart the app on the same state).
    pub home: Option<PathBuf>,
    pub keychain_service: Option<String>,
    pub env: Vec<(String, String)>,
    /// The app's command-line arguments, as a file manager's *Open With* passes them.
    pub args: Vec<String>,
}

/// The environment an app instance runs in: its display and its own profile (settings, data,
/// keychain). A second launch with the same environment is "the same app" to the first.
#[derive(Debug, Clone, Default)]
struct AppEnv {
    set: Vec<(String, std::ffi::OsString)>,
    unset: Vec<&'static str>,
}

impl AppEnv {
    fn apply(&self, cmd: &mut Command) {
        for name in &self.unset {
            cmd.env_remove(name);
        }
        for (name, value) in &self.set {
            cmd.env(name, value);
        }
    }
}

pub struct Desktop {
    pub client: Client,
    pub display: String,
    /// Settings (`config/`), logs and journals (`data/`) of this app instance.
    pub home: PathBuf,
    pub keychain_service: String,
    env: AppEnv,
    _home_dir: Option<TempDir>,
    _driver: KilledGroup,
    _xvfb: Killed,
    driver_log: PathBuf,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("display", &self.display)
            .finish()
    }
}

/// Whether X display `n` is in use: its lock file names a running process. An Xvfb stopped with
/// SIGKILL (as `Killed` stops it) leaves its lock and socket behind, and a new X server takes
/// both over (it checks the lock's process, as this does): after a day of test runs every number
/// would otherwise look taken. A lock being written counts as free: `start_xvfb` then finds the
/// display is not its own.
fn display_taken(n: u32) -> bool {
    match display_owner(n) {
        Some(pid) => Path::new(&format!("/proc/{pid}")).exists(),
        None => Path::new(&format!("/tmp/.X11-unix/X{n}")).exists(),
    }
}

/// The process that holds X display `n`, from its lock file.
fn display_owner(n: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/tmp/.X{n}-lock"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn start_xvfb() -> (Killed, String) {
    for n in 90..190 {
        if display_taken(n) {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (run the setup script)");
        let mut xvfb = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(xvfb.0.try_wait(), Ok(Some(_))) {
                break; // lost a race for this display number
            }
            let ok = Command::new("xdpyinfo")
                .env("DISPLAY", &display)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                // Tests start side by side: two can pick the same free number, and the X server
                // that answers may be the other test's while ours is still failing to take the
                // lock. Sharing a display, each would type into the other's dialogs.
                if display_owner(n) == Some(xvfb.0.id()) {
                    return (xvfb, display);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("no free X display for Xvfb");
}

impl Desktop {
    pub async fn launch(launch: Launch) -> Desktop {
        let (xvfb, display) = start_xvfb();
        let (home_dir, home) = match &launch.home {
            Some(h) => (None, h.clone()),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("oxdrop-app-")
                    .tempdir()
                    .expect("home");
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let keychain_service = launch
            .keychain_service
            .clone()
            .unwrap_or_else(|| crate::unique_name("OxDrop-e2e"));
        std::fs::create_dir_all(&home).expect("home");
        let mut env = AppEnv::default();
        let vars: [(&str, std::ffi::OsString); 6] = [
            ("DISPLAY", display.clone().into()),
            ("NO_AT_BRIDGE", "1".into()),
            ("OXDROP_CONFIG_DIR", home.join("config").into()),
            ("OXDROP_DATA_DIR", home.join("data").into()),
            ("OXDROP_KEYCHAIN_SERVICE", keychain_service.clone().into()),
            ("OXDROP_LOG", "info,oxdrop_core=debug".into()),
        ];
        env.set.extend(vars.map(|(k, v)| (k.to_owned(), v)));
        match &launch.sandbox {
            Some(url) => env.set.push(("OXDROP_SANDBOX_URL".into(), url.into())),
            None => env.unset.push("OXDROP_SANDBOX_URL"),
        }
        // Only a test that sets it gets a sandbox that is still being prepared.
        env.unset.push("OXDROP_SANDBOX_STATUS");
        for (k, v) in &launch.env {
            env.set.push((k.clone(), v.into()));
        }
        let app = app_bin();
        assert!(
            app.exists(),
            "{} is missing: build it first (cargo build -p oxdrop-app)",
            app.display()
        );
        // Ports are picked free, but another process of the same run can take one before
        // tauri-driver or WebKitWebDriver binds it: then no session starts, and a second try
        // with other ports does.
        let mut attempt = 1;
        let (client, driver, driver_log) = loop {
            let port = free_port();
            let native_port = free_port();
            let driver_log = home.join(format!("driver-{port}.log"));
            let log = std::fs::File::create(&driver_log).expect("driver log");
            let mut cmd = Command::new(tauri_driver_bin());
            cmd.args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
            env.apply(&mut cmd);
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let driver = KilledGroup(cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}); run the setup script",
                    tauri_driver_bin().display()
                )
            }));
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "tauri-driver did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            let mut caps = serde_json::Map::new();
            caps.insert(
                "tauri:options".into(),
                json!({ "application": app, "args": launch.args }),
            );
            let url = format!("http://127.0.0.1:{port}");
            let mut builder = ClientBuilder::rustls().expect("tls");
            let connect = builder.capabilities(caps).connect(&url);
            let session = match tokio::time::timeout(SESSION_WAIT, connect).await {
                Ok(session) => session.map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer within {SESSION_WAIT:?}")),
            };
            match session {
                Ok(client) => break (client, driver, driver_log),
                Err(e) if attempt < 3 => {
                    eprintln!("no WebDriver session on try {attempt} ({e}); trying other ports");
                    attempt += 1;
                }
                Err(e) => panic!(
                    "no WebDriver session: {e}\n{}",
                    std::fs::read_to_string(&driver_log).unwrap_or_default()
                ),
            }
        };
        Desktop {
            client,
            display,
            home,
            keychain_service,
            env,
            _home_dir: home_dir,
            _driver: driver,
            _xvfb: xvfb,
            driver_log,
        }
    }

    /// `program` with this app's environment (display, settings, data and keychain), as when
    /// the same user starts it again from the same desktop.
    pub fn command_in_same_session(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.env.apply(&mut cmd);
        cmd
    }

    /// How many windows on this display are shown with exactly this title.
    pub fn visible_windows(&self, title: &str) -> usize {
        self.xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")])
            .lines()
            .count()
    }

    /// The app's own stderr and tauri-driver's output so far.
    pub fn app_log(&self) -> String {
        std::fs::read_to_string(&self.driver_log).unwrap_or_default()
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let shot = self.screen_shot(&format!("failure-{}", std::process::id()));
                panic!("{css} did not appear: {e} (screen in {})", shot.display())
            }
        }
    }

    /// Clicks `css` once it is there and enabled: a click on a disabled control does nothing and
    /// would let the test run on ahead of the app.
    pub async fn click(&self, css: &str) {
        self.find(&format!("{css}:not(:disabled)"))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_default()
    }

    /// The text of `css` as it is now, without waiting for it to appear.
    pub async fn text_now(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.text().await.ok()
    }

    /// Waits until `css` exists and its text satisfies `pred`; returns that text.
    pub async fn wait_text(
        &self,
        css: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
            {
                if pred(&t) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let log = artifacts_dir().join(format!("app-log-{}.txt", std::process::id()));
        let _ = std::fs::write(&log, self.app_log());
        let _ = self.screen_shot(&format!("failure-{}", std::process::id()));
        panic!(
            "{css} never matched; last text: {last:?}\napp log (all of it in {}):\n{}",
            log.display(),
            tail(&self.app_log(), 3000)
        );
    }

    /// Clicks the first button whose text contains `label` inside `css`.
    pub async fn click_text(&self, css: &str, label: &str) {
        let xpath = format!(
            "//*[@data-testid='{css}']//button[contains(normalize-space(.), {})]",
            xpath_literal(label)
        );
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label:?} in {css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// A WebKit screenshot of the page, saved as `<artifacts>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Let WebKit paint what the DOM already shows: a snapshot taken right after a change can
        // otherwise show the previous frame.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// A screenshot of the whole X screen (native dialogs included).
    pub fn screen_shot(&self, name: &str) -> PathBuf {
        let path = artifacts_dir().join(format!("{name}.png"));
        let _ = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", &self.display)
            .status();
        path
    }

    /// Runs xdotool on this display and returns what it printed. Bounded: a command that waits
    /// (`windowfocus --sync`) fails the test after a minute instead of hanging it.
    pub fn xdotool(&self, args: &[&str]) -> String {
        self.xdotool_within_limit(args).unwrap_or_else(|| {
            self.fail_on_screen(&format!(
                "xdotool {args:?} did not finish within {XDOTOOL_LIMIT:?}"
            ))
        })
    }

    /// What xdotool printed, or `None` when it ran past `XDOTOOL_LIMIT` and was stopped.
    fn xdotool_within_limit(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("timeout")
            .args([
                "--kill-after=5",
                &XDOTOOL_LIMIT.as_secs().to_string(),
                "xdotool",
            ])
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool");
        // timeout(1) exits 124 when it stopped the command, 137 when it had to kill it.
        if matches!(out.status.code(), Some(124) | Some(137)) {
            return None;
        }
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The id of a visible window whose title matches the regular expression `title`, once one
    /// is shown; `None` after `timeout`.
    pub fn wait_window(&self, title: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let ids = self.xdotool(&["search", "--onlyvisible", "--name", title]);
            if let Some(id) = ids.lines().next() {
                return Some(id.to_owned());
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The id of a visible window whose title matches `title`; the test fails, saying which
    /// windows there were, when none is shown within `WINDOW_WAIT`.
    pub fn window(&self, title: &str) -> String {
        self.wait_window(title, WINDOW_WAIT).unwrap_or_else(|| {
            self.fail_on_screen(&format!(
                "no window titled /{title}/ was shown within {WINDOW_WAIT:?}"
            ))
        })
    }

    /// Fails the test with `what`, a screenshot of the whole X screen, the windows shown and the
    /// end of the app's log.
    fn fail_on_screen(&self, what: &str) -> ! {
        let shot = self.screen_shot(&format!("failure-{}", std::process::id()));
        // Not through `xdotool`, whose own failure comes here.
        let titles = self
            .xdotool_within_limit(&[
                "search",
                "--onlyvisible",
                "--name",
                ".*",
                "getwindowname",
                "%@",
            ])
            .unwrap_or_default()
            .replace('\n', " | ");
        panic!(
            "{what}\nwindows shown: {titles}\nscreen: {}\napp log (the end):\n{}",
            shot.display(),
            tail(&self.app_log(), 3000)
        )
    }

    /// The app's process id, from its window (titled "OxDrop" while idle). Tests on one session
    /// bus tell their app's D-Bus messages (tray, dock) from other apps' by it.
    pub fn app_pid(&self) -> u32 {
        let id = self.window("^OxDrop$");
        let pid = self.xdotool(&["getwindowpid", &id]);
        pid.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .unwrap_or_else(|| panic!("no process id for the OxDrop window: {pid:?}"))
    }

    /// The window's position and size on the X screen.
    pub fn window_geometry(&self, title: &str) -> (i32, i32, i32, i32) {
        let id = self.window(&format!("^{title}$"));
        let geo = self.xdotool(&["getwindowgeometry", "--shell", &id]);
        let get = |k: &str| {
            geo.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (get("X"), get("Y"), get("WIDTH"), get("HEIGHT"))
    }

    /// Drags `files` from a real OS drag source onto the point (x, y) of the screen, with the
    /// pointer moving in steps as a person would (GTK needs motion past its drag threshold).
    pub async fn drag_files_to(&self, files: &[PathBuf], x: i32, y: i32) {
        let script = crate::repo_root().join("tests/py/drag_source.py");
        let mut source = Killed(
            Command::new("/usr/bin/python3")
                .arg(&script)
                .args(["1000", "60"])
                .args(files)
                .env("DISPLAY", &self.display)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("drag source (python3-gi)"),
        );
        let (sx, sy, sw, sh) = self.window_geometry("oxdrop-drag-source");
        let (px, py) = (sx + sw / 2, sy + sh / 2);
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.xdotool(&[
            "mousemove",
            &px.to_string(),
            &py.to_string(),
            "mousedown",
            "1",
        ]);
        for step in 1..=10 {
            let mx = px + (x - px) * step / 10;
            let my = py + (y - py) * step / 10;
            self.xdotool(&["mousemove", &mx.to_string(), &my.to_string()]);
            tokio::time::sleep(Duration::from_millis(80)).await;
        }
        self.xdotool(&["mousemove", &(x + 3).to_string(), &(y + 3).to_string()]);
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string()]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.xdotool(&["mouseup", "1"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = source.0.kill();
    }

    /// Types `path` into the native GTK file chooser titled `title` and confirms.
    pub async fn choose_in_dialog(&self, title: &str, path: &Path, shot: Option<&str>) {
        let id = self.window(&format!("^{title}$"));
        tokio::time::sleep(Duration::from_millis(800)).await;
        self.xdotool(&["windowfocus", "--sync", &id]);
        self.xdotool(&["key", "--window", &id, "ctrl+l"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.xdotool(&["type", "--delay", "15", &path.to_string_lossy()]);
        tokio::time::sleep(Duration::from_millis(400)).await;
        if let Some(name) = shot {
            self.screen_shot(name);
        }
        self.xdotool(&["key", "--window", &id, "Return"]);
    }

    /// Opens another window and gives it the keyboard focus, as when the user switches to another
    /// program. The window closes when the guard is dropped.
    pub async fn focus_elsewhere(&self) -> impl Drop {
        let script = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk; \
                      w = Gtk.Window(title='oxdrop-elsewhere'); w.move(900, 700); w.show_all(); Gtk.main()";
        let child = Command::new("/usr/bin/python3")
            .args(["-c", script])
            .env("DISPLAY", &self.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-gi");
        let id = self.window("^oxdrop-elsewhere$");
        self.xdotool(&["windowfocus", "--sync", &id]);
        Killed(child)
    }

    /// Closes the window titled `title` as its close button would (the window manager's
    /// WM_DELETE_WINDOW message; the app decides what closing does).
    pub fn close_window(&self, title: &str) {
        let id = self.xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")]);
        let id = id.lines().next().expect("window id").to_owned();
        let script = crate::repo_root().join("tests/py/close_window.py");
        let status = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(&id)
            .env("DISPLAY", &self.display)
            .status()
            .expect("python3");
        assert!(status.success(), "closing the window: {status}");
    }

    pub async fn quit(self) {
        let _ = self.client.close().await;
    }
}

fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("concat('{}')", s.replace('\'', "', \"'\", '"))
    }
}

pub fn tail(text: &str, n: usize) -> &str {
    let start = text.len().saturating_sub(n);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}
