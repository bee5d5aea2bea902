fn main() {
    // Listing the app's commands in a manifest makes Tauri refuse every command that a
    // capability does not grant (capabilities/main.json), instead of allowing all of them.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(oxdrop_commands())),
    )
    .expect("tauri-build failed");
}

/// Kept in step with `commands::handler()` by a test in src/commands.rs.
fn oxdrop_commands() -> &'static [&'static str] {
    &["server_info"]
}
