//! Request plumbing: URLs, the key on the account's own origin only, sending with one error
//! mapping, and reading answers.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use super::error_map::{self, ApiCall, not_oxen, transport_error};
use super::{OxenClient, wire};
use crate::error::{Error, Result};
use crate::remote_path::RemotePath;
use crate::repo_ref::RepoRef;
use crate::retry::retry;
use crate::server_url::ServerUrl;

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
                let err = transport_error(&e, &self.inner.server);
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

pub(super) async fn read_limited(mut response: Response, limit: usize) -> Result<Vec<u8>> {
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
pub(super) async fn parse_json<T: DeserializeOwned>(
    response: Response,
    server: &ServerUrl,
) -> Result<T> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| transport_error(&e, server))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;

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
}
