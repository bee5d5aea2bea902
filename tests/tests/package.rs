//! The Linux installers, built offline by the documented command (`scripts/package --debug`; the
//! deb and rpm bundlers download nothing): what the .deb and the .rpm hold and declare, then the
//! .deb installed for real with apt, the installed `/usr/bin/oxdrop-app` started on a private X
//! display until the OxDrop window appears and paints, and the package removed again.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use oxdrop_tests::desktop::{artifacts_dir, tail};

/// Runs the command, fails the test with its output unless it succeeds, and returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        tail(&stdout, 6000),
        tail(&stderr, 6000)
    );
    stdout
}

/// `args` as root: directly when the tests run as root (CI), else through passwordless sudo.
fn as_root(args: &[&str]) -> Command {
    let mut cmd = if nix::unistd::Uid::effective().is_root() {
        Command::new(args[0])
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", args[0]]);
        sudo
    };
    cmd.args(&args[1..])
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// Removes the package again when the test ends, passed or failed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = as_root(&["apt-get", "remove", "-y", "-q", "oxdrop"]).status();
    }
}

#[test]
fn scripts_package_builds_a_deb_and_an_rpm_and_the_deb_installs_and_opens_the_window() {
    let root = oxdrop_tests::repo_root();
    // --beside-tests: the app binary in a folder of its own, since `tauri build` rewrites the
    // binary it bundles and target/debug/oxdrop-app is the one the e2e tests are running
    // meanwhile, but from the dependencies the tests' build compiled (346 s on a new machine,
    // against 696 s for all of them).
    run(Command::new(root.join("scripts/package"))
        .args(["--debug", "--beside-tests"])
        .current_dir(&root));
    let packages = root.join("target/packages");
    let deb = packages.join("oxdrop_0.1.0_amd64.deb");
    let rpm = packages.join("oxdrop-0.1.0-1.x86_64.rpm");
    deb_holds_the_app(&deb);
    rpm_declares_the_app(&rpm);
    installed_deb_opens_the_window(&deb);
}

fn deb_holds_the_app(deb: &Path) {
    let info = run(Command::new("dpkg-deb").arg("-I").arg(deb));
    for field in [
        "Package: oxdrop",
        "Architecture: amd64",
        // The bundler adds the indicator library for the tray icon.
        "Depends: libayatana-appindicator3-1, libwebkit2gtk-4.1-0, libgtk-3-0",
        "Recommends: gnome-keyring, libunity9",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    let unpacked = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(unpacked.path()));
    let bin = std::fs::read(unpacked.path().join("usr/bin/oxdrop-app")).unwrap();
    assert_eq!(&bin[..4], b"\x7fELF");
    let desktop = std::fs::read_to_string(
        unpacked
            .path()
            .join("usr/share/applications/oxdrop.desktop"),
    )
    .unwrap();
    // "Open With": every chosen file and folder as an argument, and folders and all files
    // offered; the dock matches the window (WM_CLASS oxdrop-app) to this launcher.
    for line in [
        "Name=OxDrop",
        "Exec=oxdrop-app %F",
        "StartupWMClass=oxdrop-app",
        "MimeType=inode/directory;application/octet-stream;",
        "Type=Application",
    ] {
        assert!(
            desktop.lines().any(|l| l == line),
            "{line} missing:\n{desktop}"
        );
    }
    assert!(
        !desktop.contains("{{"),
        "a template variable is left:\n{desktop}"
    );
    for size in ["32x32", "128x128", "256x256@2", "512x512"] {
        let icon = unpacked.path().join(format!(
            "usr/share/icons/hicolor/{size}/apps/oxdrop-app.png"
        ));
        assert!(icon.exists(), "{}", icon.display());
    }
}

/// Read with Debian's `rpm`: the metadata a Fedora or openSUSE user's package manager goes by.
fn rpm_declares_the_app(rpm: &Path) {
    let query = |what: &[&str]| run(Command::new("rpm").arg("-qp").args(what).arg(rpm));
    let info = query(&["--info"]);
    for field in [
        "Name        : oxdrop",
        "Version     : 0.1.0",
        "Release     : 1",
        "Architecture: x86_64",
        "Summary     : Drop files into Oxen repositories",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    // By library soname (what the bundler finds in the binary), so any RPM distribution's
    // package providing WebKitGTK 4.1 and GTK 3 satisfies them.
    let requires = query(&["--requires"]);
    for dependency in ["libwebkit2gtk-4.1.so.0()(64bit)", "libgtk-3.so.0()(64bit)"] {
        assert!(
            requires.lines().any(|l| l.trim() == dependency),
            "{dependency} missing:\n{requires}"
        );
    }
    let recommends = query(&["--recommends"]);
    assert!(
        recommends.lines().any(|l| l.trim() == "gnome-keyring"),
        "{recommends}"
    );
    let files = query(&["--list"]);
    for file in [
        "/usr/bin/oxdrop-app",
        "/usr/share/applications/oxdrop.desktop",
        "/usr/share/icons/hicolor/128x128/apps/oxdrop-app.png",
    ] {
        assert!(files.lines().any(|l| l == file), "{file} missing:\n{files}");
    }
}

/// Waits for the window, then screenshots the display until the web view has painted (a blank
/// window is one or two colours; the sign-in screen's text and shades are hundreds).
const WINDOW_SCRIPT: &str = r#"
setsid dbus-run-session -- /usr/bin/oxdrop-app >"$APP_LOG" 2>&1 &
app=$!
trap 'kill -TERM -- -$app 2>/dev/null; wait $app 2>/dev/null' EXIT
# Polled, as the e2e harness does: `search --sync` gives up at the first X error, which a window
# destroyed while it looks (the app starting) can cause; one CI rehearsal failed that way.
for _ in $(seq 120); do
  window=$(xdotool search --onlyvisible --name '^OxDrop$' 2>>"$APP_LOG.xdotool" | head -n 1)
  [ -n "$window" ] && echo "window=$window" && break
  sleep 0.5
done
[ -n "$window" ] || { echo "xdotool said:"; tail -n 5 "$APP_LOG.xdotool"; }
colours=0
for _ in $(seq 60); do
  import -window root "$SHOT"
  colours=$(identify -format %k "$SHOT")
  [ "$colours" -gt 64 ] && break
  sleep 0.5
done
echo "colours=$colours"
"#;

fn installed_deb_opens_the_window(deb: &Path) {
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "oxdrop"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("ok installed"),
        "OxDrop is already installed on this machine. This test installs its own build and \
         removes it afterwards, so remove yours first (apt-get remove oxdrop)."
    );
    let _installed = Installed;
    run(&mut as_root(&[
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=300",
        deb.to_str().unwrap(),
    ]));
    let listed = run(Command::new("dpkg").args(["-L", "oxdrop"]));
    assert!(
        listed.lines().any(|l| l == "/usr/bin/oxdrop-app"),
        "{listed}"
    );

    // The user's settings, data and keychain stay untouched: everything in a throwaway home.
    let home = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let path = home.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    let runtime = dir("run");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let app_log = home.path().join("app.log");
    let shot = artifacts_dir().join("package-installed-app.png");
    let out = run(Command::new("timeout")
        .args([
            "180",
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x900x24 -nolisten tcp",
        ])
        .args(["bash", "-c", WINDOW_SCRIPT])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", dir("config"))
        .env("XDG_DATA_HOME", dir("data"))
        .env("XDG_CACHE_HOME", dir("cache"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("OXDROP_CONFIG_DIR", dir("oxdrop-config"))
        .env("OXDROP_DATA_DIR", dir("oxdrop-data"))
        .env(
            "OXDROP_KEYCHAIN_SERVICE",
            oxdrop_tests::unique_name("OxDrop-package"),
        )
        .env("NO_AT_BRIDGE", "1")
        .env_remove("OXDROP_SANDBOX_URL")
        .env_remove("OXDROP_SANDBOX_STATUS")
        .env("APP_LOG", &app_log)
        .env("SHOT", &shot));
    let app_output = std::fs::read_to_string(&app_log).unwrap_or_default();
    assert!(
        out.lines().any(|l| l.starts_with("window=")),
        "no window named OxDrop appeared:\n{out}\napp output:\n{}",
        tail(&app_output, 4000)
    );
    let colours: u32 = out
        .lines()
        .find_map(|l| l.strip_prefix("colours="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        colours > 64,
        "the window did not paint ({colours} colours on screen; see {}):\n{}",
        shot.display(),
        tail(&app_output, 4000)
    );
}
