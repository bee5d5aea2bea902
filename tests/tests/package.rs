//! The .deb: built offline by `tauri build` (the deb bundler needs no downloads), with the binary,
//! the desktop entry and the icons, and the dependencies a Debian system needs to run it.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn tauri_builds_a_deb_offline_with_everything_in_it() {
    let root = oxdrop_tests::repo_root();
    let cli = root.join("ui/node_modules/.bin/tauri");
    assert!(
        cli.exists(),
        "the Tauri CLI comes from ui/node_modules (run the setup script)"
    );
    let out = Command::new(&cli)
        .args([
            "build",
            "--debug",
            "--bundles",
            "deb",
            "--config",
            r#"{"build":{"beforeBuildCommand":""}}"#,
        ])
        .current_dir(root.join("src-tauri"))
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tauri build failed:\n{log}");
    let deb = root.join("target/debug/bundle/deb/oxdrop_0.1.0_amd64.deb");
    assert!(deb.exists(), "{log}");

    let info = Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    for field in [
        "Package: oxdrop",
        "Architecture: amd64",
        "Depends: libwebkit2gtk-4.1-0, libgtk-3-0",
        "Recommends: gnome-keyring",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    let unpacked = tempfile::tempdir().unwrap();
    assert!(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(unpacked.path())
            .status()
            .unwrap()
            .success()
    );
    let bin = std::fs::read(unpacked.path().join("usr/bin/oxdrop-app")).unwrap();
    assert_eq!(&bin[..4], b"\x7fELF");
    let desktop = std::fs::read_to_string(
        unpacked
            .path()
            .join("usr/share/applications/oxdrop.desktop"),
    )
    .unwrap();
    assert!(
        desktop.contains("Name=OxDrop") && desktop.contains("Exec=oxdrop-app"),
        "{desktop}"
    );
    for size in ["32x32", "128x128", "256x256@2", "512x512"] {
        let icon = unpacked.path().join(format!(
            "usr/share/icons/hicolor/{size}/apps/oxdrop-app.png"
        ));
        assert!(icon.exists(), "{}", icon.display());
    }
}
