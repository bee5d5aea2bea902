//! End to end: the real OxDrop window (WebKitGTK under Xvfb, driven through tauri-driver), the
//! real oxen-server behind a real auth proxy, the real Secret Service, a real OS drag (XDND) and
//! the native GTK file chooser, and every upload read back with Oxen's own client.
//!
//! One test binary (`e2e`, which `.config/nextest.toml` runs one window at a time); the tests
//! are grouped by topic, and the steps a person takes in the window are shared in `steps`.

// Test code: `&[path.clone()]` reads better, and a panic is how a test fails.
#![allow(clippy::cloned_ref_to_slice_refs, clippy::unwrap_used)]

mod accounts;
mod interrupted;
mod keyboard;
mod open_with;
mod queue;
mod scale;
mod security;
mod steps;
mod upload;
mod watch;
mod window;
