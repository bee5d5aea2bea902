//! OxDrop's core, with no GUI in it: the Oxen HTTP client, the upload engine, accounts and the
//! keychain. The desktop app and the `oxdrop` command line are thin layers over this crate.

pub mod accounts;
pub mod client;
pub mod error;
pub mod hash;
pub mod model;
pub mod names;
pub mod paths;
pub mod plan;
pub mod retry;
pub mod secret;
pub mod server_url;
pub mod upload;

pub use client::OxenClient;
pub use error::{Error, ErrorCode, Result};
pub use names::{RemotePath, RepoRef};
pub use secret::ApiKey;
pub use server_url::ServerUrl;
