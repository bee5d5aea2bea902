fn main() {
    // Listing the app's commands in a manifest makes Tauri refuse every command that a
    // capability does not grant (capabilities/main.json), instead of allowing all of them.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(oxdrop_commands())),
    )
    .expect("tauri-build failed");
}

/// Kept in step with `commands!` by a test in src/commands/mod.rs.
fn oxdrop_commands() -> &'static [&'static str] {
    &[
        "server_info",
        "accounts_state",
        "sign_in",
        "sign_out",
        "switch_account",
        "set_author",
        "pin_place",
        "unpin_place",
        "sandbox_status",
        "sandbox_log",
        "list_namespaces",
        "list_repos",
        "repo_details",
        "check_repo_name",
        "create_repo",
        "list_branches",
        "create_branch",
        "list_dir",
        "pick_files",
        "pick_folder",
        "list_sources",
        "remove_source",
        "clear_sources",
        "plan_upload",
        "watch_uploads",
        "enqueue_upload",
        "pause_upload",
        "resume_queued",
        "cancel_queued",
        "discard_queued",
        "remove_queued",
        "move_queued",
        "retry_failed",
        "review_again",
        "search_history",
        "copy_link",
        "open_upload",
        "watch_watches",
        "pick_watch_folder",
        "add_watch",
        "edit_watch",
        "set_watch_paused",
        "remove_watch",
        "resolve_watch",
        "rescan_watch",
        "open_watch_commit",
    ]
}
