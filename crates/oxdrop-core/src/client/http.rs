//! Request plumbing: URLs, the key on the account's own origin only, sending under the watchdog
//! with one error mapping, and reading answers within their caps and time bounds.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use super::error_map::{self, ApiCall, not_oxen, stalled, transport_error};
use super::limits::{CappedBody, MAX_ERROR_BODY, MAX_JSON_BODY};
use super::watchdog::{AnswerWait, Stall, watch_request};
use super::{OxenClient, wire};
use crate::error::{Error, Result};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::retry::retry;

/// Segments are percent-encoded except unreserved characters and `+`, which actix would not
/// decode back (`%2B` survives its first decoding pass).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+');

impl OxenClient {
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let encoded: Vec<String> = segments.iter().map(|s| enc(s)).collect();
        self.inner
            .server
            .join(&format!("api/{}", encoded.join("/")))
    }

    pub(super) fn repo_url(&self, repo: &RepoRef, rest: &[&str]) -> Url {
        let mut segments = vec!["repos", repo.namespace.as_str(), repo.name.as_str()];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    /// `repos/<repo>/<head…>/<revision>/<path>`: a revision (branch names may hold slashes) and
    /// a path go in as their own segments, as the server routes them.
    pub(super) fn revision_url(
        &self,
        repo: &RepoRef,
        head: &[&str],
        revision: &str,
        path: &RemotePath,
    ) -> Url {
        let mut segments = head.to_vec();
        segments.extend(revision.split('/'));
        segments.extend(path.segments());
        self.repo_url(repo, &segments)
    }

    /// A request to this server, with the request id, and the key when — and only when — the
    /// URL belongs to the account's origin.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let same_origin = url.origin() == self.inner.server.origin();
        let mut req = self
            .inner
            .http
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

    /// Sends, and turns transport failures, stalls and non-2xx answers into [`Error`]s. The
    /// answer must start within `read_timeout` of the body going out.
    pub(crate) async fn send(&self, req: RequestBuilder, call: &ApiCall<'_>) -> Result<Response> {
        let answer = AnswerWait::within(self.inner.options.read_timeout);
        self.send_awaiting(req, call, answer).await
    }

    /// [`OxenClient::send`] with the answer's own bound: `commit_timeout` where the server works
    /// silently before answering (a commit, a part that may complete its file).
    pub(crate) async fn send_awaiting(
        &self,
        req: RequestBuilder,
        call: &ApiCall<'_>,
        answer: AnswerWait<'_>,
    ) -> Result<Response> {
        let (http, req) = req.build_split();
        let mut req = req.map_err(Error::internal)?;
        let request_id = req
            .headers()
            .get("x-oxen-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let method = req.method().clone();
        let path = req.url().path().to_owned();
        let watch = watch_request(&mut req);
        let stall_within = self.inner.options.stall_timeout;
        let sent = tokio::select! {
            sent = http.execute(req) => sent.map_err(|e| transport_error(&e, &self.inner.server)),
            phase = watch.stalled(stall_within, answer) => {
                Err(stalled(phase, &self.inner.server))
            }
        };
        let response = match sent {
            Ok(r) => r,
            Err(err) => {
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
        let body = self.read_error_body(response).await;
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
        self.parse_json(response).await
    }

    /// [`OxenClient::send_json`] with the answer's own bound (see `send_awaiting`).
    pub(crate) async fn send_json_awaiting<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        call: &ApiCall<'_>,
        answer: AnswerWait<'_>,
    ) -> Result<T> {
        let response = self.send_awaiting(req, call, answer).await?;
        self.parse_json(response).await
    }

    /// Parses a 2xx JSON body of at most [`MAX_JSON_BODY`]; anything else means the other side
    /// is not (or not only) an Oxen server, which the user should hear in those words.
    pub(super) async fn parse_json<T: DeserializeOwned>(&self, response: Response) -> Result<T> {
        let status = response.status();
        let server = &self.inner.server;
        let body = self.read_body(response, MAX_JSON_BODY).await?;
        serde_json::from_slice(&body).map_err(|e| {
            let parsed = wire::ServerError::parse(&body);
            let why = if parsed.is_html {
                "it sent a web page instead of data".to_owned()
            } else {
                format!("its answer could not be read ({e})")
            };
            not_oxen(server, &why).with_status(status.as_u16())
        })
    }

    /// The start of an error answer (at most [`MAX_ERROR_BODY`]), or nothing if it does not come.
    async fn read_error_body(&self, mut response: Response) -> Vec<u8> {
        let mut body = Vec::new();
        let read = async {
            while let Ok(Some(chunk)) = response.chunk().await {
                let room = MAX_ERROR_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_ERROR_BODY {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(self.inner.options.read_timeout, read).await;
        body
    }

    /// Reads a whole answer body: refused past `limit` bytes, and cut off as a timeout when it
    /// stops coming for `read_timeout` or takes longer than `request_timeout` in all.
    pub(super) async fn read_body(&self, mut response: Response, limit: usize) -> Result<Vec<u8>> {
        let options = &self.inner.options;
        let server = &self.inner.server;
        let mut body = CappedBody::new(limit, response.content_length())?;
        let read = async {
            loop {
                let chunk = tokio::time::timeout(options.read_timeout, response.chunk())
                    .await
                    .map_err(|_| stalled(Stall::Answering, server))?
                    .map_err(|e| transport_error(&e, server))?;
                match chunk {
                    Some(chunk) => body.push(&chunk)?,
                    None => return Ok::<_, Error>(()),
                }
            }
        };
        tokio::time::timeout(options.request_timeout, read)
            .await
            .map_err(|_| stalled(Stall::Answering, server))??;
        Ok(body.into_bytes())
    }

    /// GETs are idempotent: retried with backoff on retryable failures.
    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        url: Url,
        call: &ApiCall<'_>,
    ) -> Result<T> {
        self.get_json_query(url, &[], call).await
    }

    pub(super) async fn get_json_query<T: DeserializeOwned>(
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
}

pub(super) fn enc(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

fn new_request_id() -> String {
    format!("oxdrop-{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;
    use crate::server_url::ServerUrl;

    #[test]
    fn segments_are_encoded_once_keeping_plus() {
        assert_eq!(enc("a b/c"), "a%20b%2Fc");
        assert_eq!(enc("ünï"), "%C3%BCn%C3%AF");
        assert_eq!(enc("a+b~c.d-e_f"), "a+b~c.d-e_f");
        assert_eq!(enc("100%"), "100%25");
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

    /// A server that takes a request body and then goes silent, or never takes it at all: the
    /// watchdog ends either request as a timeout, long before any whole-request limit.
    #[tokio::test]
    async fn stalls_while_sending_or_awaiting_end_as_timeouts() {
        use crate::client::ClientOptions;
        use crate::error::ErrorCode;
        use tokio::io::AsyncReadExt;

        for reads_body in [false, true] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let held = tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                if reads_body {
                    let mut sink = vec![0u8; 1 << 20];
                    while socket.read(&mut sink).await.is_ok_and(|n| n > 0) {}
                }
                std::future::pending::<()>().await;
                drop(socket);
            });
            let server = ServerUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
            let client =
                OxenClient::with_options(server, None, ClientOptions::scaled(0.02)).unwrap();
            let repo = RepoRef::new("ns", "repo").unwrap();
            let len = 64 << 20;
            let body = reqwest::Body::from(vec![0u8; len]);
            let started = std::time::Instant::now();
            let err = client
                .put_part(&repo, "u", 1, body, len as u64, &|| false)
                .await
                .unwrap_err();
            held.abort();
            assert_eq!(err.code, ErrorCode::Timeout, "{}", err.message);
            let expected = if reads_body {
                "did not answer in time"
            } else {
                "stopped taking the data"
            };
            assert!(err.message.contains(expected), "{}", err.message);
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
        }
    }
}
