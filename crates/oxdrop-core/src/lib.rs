//! OxDrop's core, with no GUI in it: the Oxen HTTP client, the upload engine, accounts and the
//! keychain. The desktop app and the `oxdrop` command line are thin layers over this crate.

pub mod accounts;
pub mod app_dirs;
pub mod client;
pub mod error;
pub(crate) mod fs;
pub mod hash;
pub mod history;
pub mod model;
pub mod plan;
pub mod queue;
pub mod remote_path;
pub mod repo_ref;
pub mod retry;
pub mod secret;
pub mod server_url;
pub(crate) mod store;
pub mod sync;
pub mod upload;
pub mod watch;

pub use client::OxenClient;
pub use error::{Error, ErrorCode, Result};
pub use remote_path::RemotePath;
pub use repo_ref::RepoRef;
pub use secret::ApiKey;
pub use server_url::ServerUrl;
