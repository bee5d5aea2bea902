//! The Oxen HTTP client: every endpoint OxDrop uses, with one error mapping.
//!
//! The API key is attached only to requests for the account's own origin, and redirects to any
//! other origin are refused rather than followed, so the key never travels elsewhere.

mod error_map;
mod multipart;
pub mod wire;
mod workspace;

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use error_map::ApiCall;
pub use workspace::{BatchFile, BeginUpload, Workspace};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{Branch, Commit, DirEntry, DirPage, RepoDetails, RepoSummary, ServerInfo};
use crate::remote_path::RemotePath;
use crate::repo_ref::{RepoRef, check_branch_name};
use crate::retry::{RetryPolicy, retry};
use crate::secret::ApiKey;
use crate::server_url::ServerUrl;

/// `OxDrop/<version>`: deliberately without the substring "oxen", which the server's
/// User-Agent gate would parse as an (outdated) Oxen CLI and refuse with 426.
pub const USER_AGENT: &str = concat!("OxDrop/", env!("CARGO_PKG_VERSION"));

/// Segments are percent-encoded except unreserved characters and `+`, which actix would not
/// decode back (`%2B` survives its first decoding pass).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+');

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
        })
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

    // ----- request plumbing -------------------------------------------------------------------

    fn url(&self, segments: &[&str]) -> Url {
        let encoded: Vec<String> = segments.iter().map(|s| enc(s)).collect();
        self.inner
            .server
            .join(&format!("api/{}", encoded.join("/")))
    }

    fn repo_url(&self, repo: &RepoRef, rest: &[&str]) -> Url {
        let mut segments = vec!["repos", repo.namespace.as_str(), repo.name.as_str()];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    /// A request to this server, with the request id, and the key when — and only when — the
    /// URL belongs to the account's origin.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.request_on(&self.inner.http, method, url)
    }

    pub(crate) fn request_long(&self, method: Method, url: Url) -> RequestBuilder {
        self.request_on(&self.inner.http_long, method, url)
            .timeout(self.inner.options.commit_timeout)
    }

    fn request_on(&self, http: &reqwest::Client, method: Method, url: Url) -> RequestBuilder {
        let same_origin = url.origin() == self.inner.server.origin();
        let mut req = http
            .request(method, url)
            .header("x-oxen-request-id", new_request_id());
        if let (true, Some(key)) = (same_origin, &self.inner.key) {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .unwrap_or_else(|_| HeaderValue::from_static(""));
            value.set_sensitive(true);
            req = req.header(header::AUTHORIZATION, value);
        }
        req
    }

    /// Sends, and turns transport failures and non-2xx answers into [`Error`]s.
    pub(crate) async fn send(&self, req: RequestBuilder, call: &ApiCall<'_>) -> Result<Response> {
        let (http, req) = req.build_split();
        let req = req.map_err(Error::internal)?;
        let request_id = req
            .headers()
            .get("x-oxen-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let method = req.method().clone();
        let path = req.url().path().to_owned();
        let response = match http.execute(req).await {
            Ok(r) => r,
            Err(e) => {
                let err = error_map::transport_error(&e, &self.inner.server);
                tracing::debug!(%method, %path, %request_id, error = %err.log_line(), "request failed");
                return Err(err);
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
        let parsed = wire::ServerError::parse(&body);
        let mut err = error_map::status_error(status, &parsed, call, &self.inner.server, location);
        if retry_after.is_some() {
            err.retry_after = retry_after;
        }
        tracing::debug!(%method, %path, %request_id, error = %err.log_line(), "request refused");
        Err(err)
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        call: &ApiCall<'_>,
    ) -> Result<T> {
        let response = self.send(req, call).await?;
        parse_json(response, &self.inner.server).await
    }

    /// GETs are idempotent: retried with backoff on retryable failures.
    async fn get_json<T: DeserializeOwned>(&self, url: Url, call: &ApiCall<'_>) -> Result<T> {
        self.get_json_query(url, &[], call).await
    }

    async fn get_json_query<T: DeserializeOwned>(
        &self,
        url: Url,
        query: &[(&str, String)],
        call: &ApiCall<'_>,
    ) -> Result<T> {
        let timeout = self.inner.options.request_timeout;
        retry(
            &self.inner.options.quick_retry,
            &self.inner.never,
            |attempt, err, delay| {
                tracing::info!(attempt, ?delay, error = %err.log_line(), "retrying GET");
            },
            |_| {
                let req = self
                    .request(Method::GET, url.clone())
                    .query(query)
                    .timeout(timeout);
                self.send_json::<T>(req, call)
            },
        )
        .await
    }

    // ----- server -----------------------------------------------------------------------------

    /// `GET /api/version`, also the check that this is an Oxen server at all.
    pub async fn version(&self) -> Result<ServerInfo> {
        let call = ApiCall::Server;
        let url = self.url(&["version"]);
        let timeout = self.inner.options.request_timeout;
        let response = retry(
            &self.inner.options.quick_retry,
            &self.inner.never,
            |_, _, _| {},
            |_| {
                self.send(
                    self.request(Method::GET, url.clone()).timeout(timeout),
                    &call,
                )
            },
        )
        .await?;
        let header_version = response
            .headers()
            .get("oxen-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Result<wire::VersionBody> = parse_json(response, &self.inner.server).await;
        let version = match body {
            Ok(b) => b.oxen_version.or(header_version),
            // An unreadable body explains itself ("sent a web page"), unless the header says.
            Err(e) => Some(header_version.ok_or(e)?),
        };
        match version {
            Some(v) if !v.trim().is_empty() => Ok(ServerInfo { version: v }),
            _ => Err(error_map::not_oxen(
                &self.inner.server,
                "no Oxen version in the answer",
            )),
        }
    }

    /// `GET /api/health`.
    pub async fn health(&self) -> Result<()> {
        let _: serde_json::Value = self
            .get_json(self.url(&["health"]), &ApiCall::Server)
            .await?;
        Ok(())
    }

    // ----- namespaces and repositories --------------------------------------------------------

    pub async fn namespaces(&self) -> Result<Vec<String>> {
        let body: wire::NamespacesBody = self
            .get_json(self.url(&["namespaces"]), &ApiCall::Server)
            .await?;
        let mut names: Vec<String> = body.namespaces.into_iter().map(|n| n.namespace).collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Ok(names)
    }

    /// Repositories in a namespace. An unknown namespace is simply empty (as the server says).
    pub async fn repositories(&self, namespace: &str) -> Result<Vec<RepoSummary>> {
        RepoRef::new(namespace, "x")?;
        let body: wire::ReposBody = self
            .get_json(
                self.url(&["repos", namespace]),
                &ApiCall::Namespace(namespace),
            )
            .await?;
        let mut repos: Vec<RepoSummary> = body
            .repositories
            .into_iter()
            .map(|r| RepoSummary {
                namespace: r.namespace,
                name: r.name,
            })
            .collect();
        repos.sort_by_key(|r| r.name.to_lowercase());
        Ok(repos)
    }

    pub async fn repository(&self, repo: &RepoRef) -> Result<RepoDetails> {
        let body: wire::RepoBody = self
            .get_json(self.repo_url(repo, &[]), &ApiCall::Repo(repo))
            .await?;
        let r = body.repository;
        Ok(RepoDetails {
            namespace: r.namespace,
            name: r.name,
            is_empty: r.is_empty.unwrap_or(r.latest_commit.is_none()),
            size: r.size.unwrap_or(0),
            branch_count: r.branch_count,
        })
    }

    /// Creates an empty repository. An existing one gives [`ErrorCode::RepoExists`]: the caller
    /// may simply continue with it.
    pub async fn create_repository(
        &self,
        repo: &RepoRef,
        description: Option<&str>,
    ) -> Result<RepoSummary> {
        crate::repo_ref::check_namespace(&repo.namespace)?;
        crate::repo_ref::check_repo_name(&repo.name)?;
        let mut body = serde_json::json!({"namespace": repo.namespace, "name": repo.name});
        if let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) {
            // Ignored by oxen-server 0.65.2, used by the hub.
            body["description"] = serde_json::Value::String(d.to_owned());
        }
        // Not retried: a lost answer followed by a retry would report "already exists" for the
        // repository we just made. The caller shows a retryable error instead.
        let req = self
            .request(Method::POST, self.url(&["repos"]))
            .json(&body)
            .timeout(self.inner.options.request_timeout);
        let created: wire::RepoBody = self.send_json(req, &ApiCall::CreateRepo(repo)).await?;
        Ok(RepoSummary {
            namespace: created.repository.namespace,
            name: created.repository.name,
        })
    }

    pub async fn delete_repository(&self, repo: &RepoRef) -> Result<()> {
        let req = self
            .request(Method::DELETE, self.repo_url(repo, &[]))
            .timeout(self.inner.options.request_timeout);
        self.send(req, &ApiCall::Repo(repo)).await?;
        Ok(())
    }

    // ----- branches ---------------------------------------------------------------------------

    pub async fn branches(&self, repo: &RepoRef) -> Result<Vec<Branch>> {
        let body: wire::BranchesBody = self
            .get_json(self.repo_url(repo, &["branches"]), &ApiCall::Repo(repo))
            .await?;
        let mut branches: Vec<Branch> = body
            .branches
            .into_iter()
            .map(|b| Branch {
                name: b.name,
                commit_id: b.commit_id,
            })
            .collect();
        branches.sort_by(|a, b| {
            (a.name != "main", a.name.to_lowercase())
                .cmp(&(b.name != "main", b.name.to_lowercase()))
        });
        Ok(branches)
    }

    pub async fn branch(&self, repo: &RepoRef, name: &str) -> Result<Branch> {
        check_branch_name(name)?;
        let mut segments = vec!["branches"];
        segments.extend(name.split('/'));
        let body: wire::BranchBody = self
            .get_json(self.repo_url(repo, &segments), &ApiCall::Branch(repo, name))
            .await?;
        Ok(Branch {
            name: body.branch.name,
            commit_id: body.branch.commit_id,
        })
    }

    /// Creates `new_name` from the head of `from`. The server would silently return an existing
    /// branch; we say so instead ([`ErrorCode::BranchExists`]).
    pub async fn create_branch(
        &self,
        repo: &RepoRef,
        new_name: &str,
        from: &str,
    ) -> Result<Branch> {
        check_branch_name(new_name)?;
        check_branch_name(from)?;
        match self.branch(repo, new_name).await {
            Ok(_) => {
                return Err(Error::new(
                    ErrorCode::BranchExists,
                    format!(
                        "A branch named '{new_name}' already exists in {repo}. Pick it from the list, or choose another name."
                    ),
                ));
            }
            Err(e) if e.code == ErrorCode::BranchNotFound => {}
            Err(e) => return Err(e),
        }
        if self.repository(repo).await?.is_empty {
            return Err(Error::new(
                ErrorCode::RepoEmpty,
                format!(
                    "{repo} has no commits yet, so there is nothing to branch from. Upload files first; the first upload creates the branch."
                ),
            ));
        }
        let body = serde_json::json!({"new_name": new_name, "from_name": from});
        let req = self
            .request(Method::POST, self.repo_url(repo, &["branches"]))
            .json(&body)
            .timeout(self.inner.options.request_timeout);
        let created: wire::BranchBody = self
            .send_json(req, &ApiCall::CreateBranch(repo, new_name, from))
            .await?;
        Ok(Branch {
            name: created.branch.name,
            commit_id: created.branch.commit_id,
        })
    }

    // ----- files and folders ------------------------------------------------------------------

    /// One page of a folder listing at a revision (branch or commit).
    pub async fn list_dir(
        &self,
        repo: &RepoRef,
        revision: &str,
        dir: &RemotePath,
        page: u32,
        page_size: u32,
    ) -> Result<DirPage> {
        let mut segments = vec!["dir"];
        segments.extend(revision.split('/'));
        segments.extend(dir.segments());
        let query = [
            ("page", page.max(1).to_string()),
            ("page_size", page_size.clamp(1, 1000).to_string()),
        ];
        let body: wire::DirBody = self
            .get_json_query(
                self.repo_url(repo, &segments),
                &query,
                &ApiCall::Path(repo, revision, dir),
            )
            .await?;
        let entries = body
            .entries
            .into_iter()
            .filter_map(|e| {
                let path = dir.join(&e.filename).ok()?;
                Some(DirEntry {
                    name: e.filename,
                    path,
                    is_dir: e.is_dir,
                    size: e.size,
                    hash: if e.is_dir { None } else { e.hash },
                })
            })
            .collect();
        Ok(DirPage {
            entries,
            page: body.page_number.unwrap_or(page),
            total_pages: body.total_pages.unwrap_or(1),
            total_entries: body.total_entries.unwrap_or(0),
        })
    }

    /// Every entry of a folder, all pages.
    pub async fn list_dir_all(
        &self,
        repo: &RepoRef,
        revision: &str,
        dir: &RemotePath,
    ) -> Result<Vec<DirEntry>> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let listing = self.list_dir(repo, revision, dir, page, 1000).await?;
            all.extend(listing.entries);
            if page >= listing.total_pages {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// Metadata of one file or folder at a revision.
    pub async fn metadata(
        &self,
        repo: &RepoRef,
        revision: &str,
        path: &RemotePath,
    ) -> Result<DirEntry> {
        let mut segments = vec!["meta"];
        segments.extend(revision.split('/'));
        segments.extend(path.segments());
        let body: wire::MetaBody = self
            .get_json(
                self.repo_url(repo, &segments),
                &ApiCall::Path(repo, revision, path),
            )
            .await?;
        Ok(DirEntry {
            name: path.file_name().to_owned(),
            path: path.clone(),
            is_dir: body.entry.is_dir,
            size: body.entry.size,
            hash: body.entry.hash,
        })
    }

    /// Starts a download of one file at a revision; the caller streams the body.
    pub async fn download(
        &self,
        repo: &RepoRef,
        revision: &str,
        path: &RemotePath,
    ) -> Result<Response> {
        let mut segments = vec!["file"];
        segments.extend(revision.split('/'));
        segments.extend(path.segments());
        let req = self.request(Method::GET, self.repo_url(repo, &segments));
        self.send(req, &ApiCall::Path(repo, revision, path)).await
    }

    /// Latest commits of a branch, newest first (one page).
    pub async fn commits(
        &self,
        repo: &RepoRef,
        revision: &str,
        page_size: u32,
    ) -> Result<Vec<Commit>> {
        let mut segments = vec!["commits", "history"];
        segments.extend(revision.split('/'));
        let query = [
            ("page", "1".to_owned()),
            ("page_size", page_size.to_string()),
        ];
        let body: wire::CommitsBody = self
            .get_json_query(
                self.repo_url(repo, &segments),
                &query,
                &ApiCall::Branch(repo, revision),
            )
            .await?;
        Ok(body.commits.into_iter().map(Commit::from).collect())
    }

    /// The URL of a commit in the server's web interface (the hub's layout).
    pub fn commit_web_url(&self, repo: &RepoRef, commit_id: &str) -> Url {
        let path = format!(
            "{}/{}/commit/{}",
            enc(&repo.namespace),
            enc(&repo.name),
            enc(commit_id)
        );
        self.inner.server.join(&path)
    }
}

pub(crate) fn enc(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

fn new_request_id() -> String {
    format!("oxdrop-{}", uuid::Uuid::new_v4().simple())
}

async fn read_limited(mut response: Response, limit: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::internal)? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}

/// Parses a 2xx JSON body; anything else means the other side is not (or not only) an Oxen
/// server, which the user should hear in those words.
async fn parse_json<T: DeserializeOwned>(response: Response, server: &ServerUrl) -> Result<T> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| error_map::transport_error(&e, server))?;
    serde_json::from_slice(&body).map_err(|e| {
        let parsed = wire::ServerError::parse(&body);
        let why = if parsed.is_html {
            "it sent a web page instead of data".to_owned()
        } else {
            format!("its answer could not be read ({e})")
        };
        error_map::not_oxen(server, &why).with_status(status.as_u16())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_once_keeping_plus() {
        assert_eq!(enc("a b/c"), "a%20b%2Fc");
        assert_eq!(enc("ünï"), "%C3%BCn%C3%AF");
        assert_eq!(enc("a+b~c.d-e_f"), "a+b~c.d-e_f");
        assert_eq!(enc("100%"), "100%25");
    }

    #[test]
    fn user_agent_passes_the_gate() {
        assert!(!USER_AGENT.to_ascii_lowercase().contains("oxen"));
    }

    #[test]
    fn key_only_for_own_origin() {
        let server = ServerUrl::parse("http://127.0.0.1:3000").unwrap();
        let client = OxenClient::new(server, ApiKey::new("k-123")).unwrap();
        let own = client
            .request(
                Method::GET,
                Url::parse("http://127.0.0.1:3000/api/version").unwrap(),
            )
            .build()
            .unwrap();
        assert!(
            own.headers()
                .get(header::AUTHORIZATION)
                .unwrap()
                .is_sensitive()
        );
        for other in [
            "http://127.0.0.1:3001/api/version",
            "https://127.0.0.1:3000/api/version",
            "http://localhost:3000/api/version",
            "http://evil.example/api/version",
        ] {
            let req = client
                .request(Method::GET, Url::parse(other).unwrap())
                .build()
                .unwrap();
            assert!(
                req.headers().get(header::AUTHORIZATION).is_none(),
                "{other}"
            );
        }
        assert!(!format!("{client:?}").contains("k-123"));
    }
}
