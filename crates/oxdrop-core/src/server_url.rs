//! Server addresses as users type them, normalised into one canonical form.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use crate::error::{Error, ErrorCode, Result};

/// The address of an Oxen server: scheme, host, optional port and optional path prefix, with no
/// trailing slash, query, fragment or credentials. `https://hub.oxen.ai` is the default.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct ServerUrl(Url);

pub const HUB_URL: &str = "https://hub.oxen.ai";

impl ServerUrl {
    /// Normalises what a user typed: adds the scheme when missing (`http` for this computer,
    /// `https` for anything else), drops trailing slashes, refuses credentials and non-web schemes.
    /// Plain `http` to another computer is allowed here; [`ServerUrl::check_secure`] decides.
    pub fn parse(raw: &str) -> Result<Self> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(invalid(raw, "the address is empty"));
        }
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            let host = match text.strip_prefix('[') {
                Some(rest) => rest.split(']').next().unwrap_or(""),
                None => text.split(['/', ':']).next().unwrap_or(""),
            };
            let scheme = if is_loopback_host(host) {
                "http"
            } else {
                "https"
            };
            format!("{scheme}://{text}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| invalid(raw, &e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid(
                raw,
                "only http:// and https:// addresses are supported",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(raw, "there is no server name in it"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                raw,
                "it contains a user name or password; put the API key in the key field instead",
            ));
        }
        url.set_query(None);
        url.set_fragment(None);
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        Ok(ServerUrl(url))
    }

    /// Refuses plain `http://` to another computer unless the user accepted the risk: the key
    /// would travel readable by anyone on the network.
    pub fn check_secure(&self, accept_insecure: bool) -> Result<()> {
        if self.0.scheme() == "http" && !self.is_loopback() && !accept_insecure {
            return Err(Error::new(
                ErrorCode::InsecureUrl,
                format!(
                    "{self} is not encrypted (http://), so your API key could be read by others \
                     on the network. Use an https:// address, or confirm that you accept the risk."
                ),
            ));
        }
        Ok(())
    }

    pub fn is_loopback(&self) -> bool {
        self.0
            .host_str()
            .is_some_and(|h| is_loopback_host(h.trim_matches(['[', ']'])))
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or("")
    }

    /// `scheme://host[:port]`, the boundary the key never crosses.
    pub fn origin(&self) -> url::Origin {
        self.0.origin()
    }

    /// A URL under this server, e.g. `api/version`. Segments must already be percent-encoded.
    pub fn join(&self, encoded_path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{}", encoded_path.trim_start_matches('/')));
        url
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn invalid(raw: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidUrl,
        format!(
            "'{}' is not a server address OxDrop can use: {why}.",
            raw.trim()
        ),
    )
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({self})")
    }
}

impl TryFrom<String> for ServerUrl {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        ServerUrl::parse(&value)
    }
}

impl From<ServerUrl> for String {
    fn from(value: ServerUrl) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let cases = [
            ("hub.oxen.ai", "https://hub.oxen.ai"),
            ("https://hub.oxen.ai///", "https://hub.oxen.ai"),
            ("  HTTPS://Hub.Oxen.AI/ ", "https://hub.oxen.ai"),
            ("localhost:3000", "http://localhost:3000"),
            ("127.0.0.1:3000/", "http://127.0.0.1:3000"),
            ("[::1]:3000", "http://[::1]:3000"),
            (
                "https://example.com/oxen/?x=1#y",
                "https://example.com/oxen",
            ),
            ("example.com:8443", "https://example.com:8443"),
        ];
        for (raw, want) in cases {
            assert_eq!(ServerUrl::parse(raw).unwrap().to_string(), want, "{raw}");
        }
    }

    #[test]
    fn refuses_bad_addresses() {
        for raw in [
            "",
            "ftp://x.org",
            "https://user:pw@x.org",
            "http://",
            "https:// x",
        ] {
            let err = ServerUrl::parse(raw).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidUrl, "{raw}");
        }
    }

    #[test]
    fn insecure_http_needs_consent_off_loopback() {
        let remote = ServerUrl::parse("http://data.example.com").unwrap();
        assert_eq!(
            remote.check_secure(false).unwrap_err().code,
            ErrorCode::InsecureUrl
        );
        remote.check_secure(true).unwrap();
        ServerUrl::parse("http://localhost:3000")
            .unwrap()
            .check_secure(false)
            .unwrap();
        ServerUrl::parse("https://hub.oxen.ai")
            .unwrap()
            .check_secure(false)
            .unwrap();
    }

    #[test]
    fn join_keeps_prefix() {
        let url = ServerUrl::parse("https://x.org/oxen/").unwrap();
        assert_eq!(
            url.join("api/version").as_str(),
            "https://x.org/oxen/api/version"
        );
        let root = ServerUrl::parse("https://x.org").unwrap();
        assert_eq!(
            root.join("/api/version").as_str(),
            "https://x.org/api/version"
        );
    }
}
