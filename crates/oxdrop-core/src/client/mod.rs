//! The Oxen HTTP client: every endpoint OxDrop uses, with one error mapping. One `impl OxenClient`
//! block per file: `http` (request plumbing), `repos` (server, namespaces, repositories,
//! branches), `tree` (reading a revision), `workspace` (uploading and committing).
//!
//! The API key is attached only to requests for the account's own origin, and redirects to any
//! other origin are refused rather than followed, so the key never travels elsewhere.

mod error_map;
mod http;
pub mod limits;
mod multipart;
mod repos;
mod tree;
mod watchdog;
pub mod wire;
mod workspace;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio_util::sync::CancellationToken;

pub use error_map::ApiCall;
pub use workspace::{BatchFile, BeginUpload, Workspace};

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::secret::ApiKey;
use crate::server_url::ServerUrl;
#[cfg(test)]
use crate::{remote_path::RemotePath, repo_ref::RepoRef};

/// `OxDrop/<version>`: deliberately without the substring "oxen", which the server's
/// User-Agent gate would parse as an (outdated) Oxen CLI and refuse with 426.
pub const USER_AGENT: &str = concat!("OxDrop/", env!("CARGO_PKG_VERSION"));

/// The environment variable holding the one time scale (see [`ClientOptions`]).
pub const TIME_SCALE_VAR: &str = "OXDROP_TIME_SCALE";

/// How long OxDrop waits for a server, all in one place.
///
/// Every request is watched (`watchdog`): a body the connection takes no byte of for
/// `stall_timeout` is a stalled connection, and so is an answer that does not come, or stops
/// coming, for `read_timeout` — or `commit_timeout` for a commit or a part that may complete its
/// file, where the server works silently (hashing, storing, staging) before it says anything.
///
/// Tests never set timeouts of their own: they scale the shipped ones. `OXDROP_TIME_SCALE`
/// (default 1, read once per process) multiplies every duration here, every retry window and
/// backoff, and the waits a server asks for; [`ClientOptions::scaled`] does the same in code.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Longest time the connection may take none of a request body's bytes.
    pub stall_timeout: Duration,
    /// Longest silence while waiting for an answer, or between its pieces.
    pub read_timeout: Duration,
    /// Whole-request limit for small API calls.
    pub request_timeout: Duration,
    /// Longest silence before the answer to a commit or to a part that may complete its file.
    pub commit_timeout: Duration,
    /// Uploads: long enough to ride out a server restart.
    pub retry: RetryPolicy,
    /// Reads a person is waiting on: quick.
    pub quick_retry: RetryPolicy,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::scaled(time_scale())
    }
}

impl ClientOptions {
    /// The shipped waits, each multiplied by `scale` (kept within 0.01..=100).
    pub fn scaled(scale: f64) -> Self {
        let scale = if scale.is_finite() {
            scale.clamp(0.01, 100.0)
        } else {
            1.0
        };
        let secs = |s: u64| Duration::from_secs(s).mul_f64(scale);
        ClientOptions {
            connect_timeout: secs(15),
            stall_timeout: secs(30),
            read_timeout: secs(60),
            request_timeout: secs(90),
            commit_timeout: secs(30 * 60),
            retry: RetryPolicy::default().scaled(scale),
            quick_retry: RetryPolicy::interactive().scaled(scale),
        }
    }
}

/// `OXDROP_TIME_SCALE`, read once; 1 when unset or not a positive number.
pub(crate) fn time_scale() -> f64 {
    static SCALE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *SCALE.get_or_init(|| {
        std::env::var(TIME_SCALE_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(1.0)
    })
}

#[derive(Clone)]
pub struct OxenClient {
    inner: Arc<Inner>,
    /// Whose key this is: the account's user name on the server ("" when unknown).
    user: String,
}

struct Inner {
    server: ServerUrl,
    key: Option<ApiKey>,
    /// No read timeout of its own: the watchdog bounds every request's silences (`send`).
    http: reqwest::Client,
    options: ClientOptions,
    /// Only for retry sleeps of GETs; uploads pass their own token.
    never: CancellationToken,
}

impl std::fmt::Debug for OxenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OxenClient")
            .field("server", &self.inner.server)
            .field("user", &self.user)
            .field("key", &self.inner.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl OxenClient {
    pub fn new(server: ServerUrl, key: Option<ApiKey>) -> Result<Self> {
        Self::with_options(server, key, ClientOptions::default())
    }

    pub fn with_options(
        server: ServerUrl,
        key: Option<ApiKey>,
        options: ClientOptions,
    ) -> Result<Self> {
        let origin = server.origin();
        let redirect = move || {
            let origin = origin.clone();
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    attempt.error("too many redirects")
                } else if attempt.url().origin() == origin {
                    attempt.follow()
                } else {
                    // Stop here: the 3xx becomes an error; the key never goes to the new place.
                    attempt.stop()
                }
            })
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .redirect(redirect())
            .connect_timeout(options.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(Error::internal)?;
        Ok(OxenClient {
            inner: Arc::new(Inner {
                http,
                server,
                key,
                options,
                never: CancellationToken::new(),
            }),
            user: String::new(),
        })
    }

    /// The same client, acting as `user` (the account's user name on the server). An upload
    /// records it, and resumes only as the same user.
    pub fn for_user(mut self, user: &str) -> Self {
        user.trim().clone_into(&mut self.user);
        self
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn server(&self) -> &ServerUrl {
        &self.inner.server
    }

    pub fn has_key(&self) -> bool {
        self.inner.key.is_some()
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_passes_the_gate() {
        assert!(!USER_AGENT.to_ascii_lowercase().contains("oxen"));
    }

    #[test]
    fn one_scale_for_every_wait() {
        let shipped = ClientOptions::scaled(1.0);
        let fast = ClientOptions::scaled(0.1);
        assert_eq!(fast.stall_timeout, shipped.stall_timeout / 10);
        assert_eq!(fast.read_timeout, shipped.read_timeout / 10);
        assert_eq!(fast.commit_timeout, shipped.commit_timeout / 10);
        assert_eq!(fast.retry.max_elapsed, shipped.retry.max_elapsed / 10);
        assert_eq!(
            fast.quick_retry.base_delay,
            shipped.quick_retry.base_delay / 10
        );
        assert_eq!(
            ClientOptions::scaled(f64::NAN).stall_timeout,
            shipped.stall_timeout
        );
        assert!(shipped.stall_timeout < shipped.read_timeout);
        assert!(shipped.read_timeout < shipped.commit_timeout);
    }

    #[test]
    fn web_addresses_of_a_commit_and_of_a_folder_at_it() {
        let server = ServerUrl::parse("https://hub.example.org/oxen/").unwrap();
        let client = OxenClient::new(server, None).unwrap();
        let repo = RepoRef::new("ada", "photos").unwrap();
        assert_eq!(
            client.commit_web_url(&repo, "c0ffee").as_str(),
            "https://hub.example.org/oxen/ada/photos/commit/c0ffee"
        );
        let folder = RemotePath::parse("Summer 2024/día #1").unwrap();
        assert_eq!(
            client.folder_web_url(&repo, "c0ffee", &folder).as_str(),
            "https://hub.example.org/oxen/ada/photos/dir/c0ffee/Summer%202024/d%C3%ADa%20%231"
        );
        assert_eq!(
            client
                .folder_web_url(&repo, "c0ffee", &RemotePath::root())
                .as_str(),
            "https://hub.example.org/oxen/ada/photos/dir/c0ffee"
        );
    }
}
