//! The Oxen HTTP client: every endpoint OxDrop uses, with one error mapping. One `impl OxenClient`
//! block per file: `http` (request plumbing), `repos` (server, namespaces, repositories,
//! branches), `tree` (reading a revision), `workspace` (uploading and committing).
//!
//! The API key is attached only to requests for the account's own origin, and redirects to any
//! other origin are refused rather than followed, so the key never travels elsewhere.

mod error_map;
mod http;
mod multipart;
mod repos;
mod tree;
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

/// `OxDrop/<version>`: deliberately without the substring "oxen", which the server's
/// User-Agent gate would parse as an (outdated) Oxen CLI and refuse with 426.
pub const USER_AGENT: &str = concat!("OxDrop/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Longest silence while reading a response.
    pub read_timeout: Duration,
    /// Whole-request limit for small API calls.
    pub request_timeout: Duration,
    /// Whole-request limit for a commit, which the server may work on silently for long.
    pub commit_timeout: Duration,
    /// Uploads: long enough to ride out a server restart.
    pub retry: RetryPolicy,
    /// Reads a person is waiting on: quick.
    pub quick_retry: RetryPolicy,
}

impl Default for ClientOptions {
    /// `OXDROP_RETRY_SECS` sets how long an upload keeps retrying through an outage before it
    /// stops as "interrupted, resumable" (default 120 s).
    fn default() -> Self {
        let mut retry = RetryPolicy::default();
        if let Some(secs) = std::env::var("OXDROP_RETRY_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            retry.max_elapsed = Duration::from_secs(secs.max(1));
        }
        ClientOptions {
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(90),
            commit_timeout: Duration::from_secs(30 * 60),
            retry,
            quick_retry: RetryPolicy::interactive(),
        }
    }
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
    /// For API calls and uploads: read inactivity limited.
    http: reqwest::Client,
    /// For commits: the server answers only when done, possibly minutes later.
    http_long: reqwest::Client,
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
        let build = |read_timeout: Option<Duration>| {
            let mut builder = reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .default_headers(headers.clone())
                .redirect(redirect())
                .connect_timeout(options.connect_timeout)
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(50));
            if let Some(t) = read_timeout {
                builder = builder.read_timeout(t);
            }
            builder.build().map_err(Error::internal)
        };
        Ok(OxenClient {
            inner: Arc::new(Inner {
                http: build(Some(options.read_timeout))?,
                http_long: build(None)?,
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
}
