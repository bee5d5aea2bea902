//! The test harness: the real oxen-server, fixtures on disk, and Oxen's own Python client as an
//! independent checker. Every integration and end-to-end test goes through these helpers.

pub mod cli;
pub mod desktop;
pub mod faults;
pub mod fixtures;
pub mod hostile;
pub mod nginx;
pub mod oxenpy;
pub mod server;
pub mod upload;
pub mod watching;

use std::path::PathBuf;

pub use server::OxenServer;

/// Where the setup script caches built tools (oxen-server, tauri-driver, the Python venv).
pub fn tools_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("OXDROP_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".cache")
        });
    cache.join("oxdrop/tools")
}

/// The workspace root (for binaries and the UI build).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A name no other test uses: `prefix-<8 hex>`.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..8])
}
