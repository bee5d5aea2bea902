//! Requests that got no HTTP answer: DNS, refused connections, TLS, timeouts, stalls, resets.
//! These say what happened, never what OxDrop will do next: the caller adds that ("Retrying…",
//! or that the upload was interrupted).

use std::error::Error as _;

use super::not_oxen;
use crate::client::watchdog::Stall;
use crate::error::{Error, ErrorCode};
use crate::server_url::ServerUrl;

/// A request the watchdog ended: the connection stopped taking its body, or no answer came.
pub(crate) fn stalled(phase: Stall, server: &ServerUrl) -> Error {
    let host = server.host();
    match phase {
        Stall::Sending => Error::new(
            ErrorCode::Timeout,
            format!(
                "The connection to {host} stalled: it stopped taking the data OxDrop was sending."
            ),
        )
        .with_detail("stalled while sending the body"),
        Stall::Answering => did_not_answer(host).with_detail("no answer in time"),
    }
}

fn did_not_answer(host: &str) -> Error {
    Error::new(
        ErrorCode::Timeout,
        format!("{host} did not answer in time. The server may be busy or the connection slow."),
    )
}

/// A request that got no HTTP answer.
pub(crate) fn transport_error(e: &reqwest::Error, server: &ServerUrl) -> Error {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let host = server.host();
    let err = if e.is_timeout() || lower.contains("timed out") {
        did_not_answer(host)
    } else if lower.contains("certificate")
        || lower.contains("invalidcertificate")
        || lower.contains("tls handshake")
        || lower.contains("unknownissuer")
        || lower.contains("received corrupt message")
        || lower.contains("invalidcontenttype")
    {
        Error::new(
            ErrorCode::Tls,
            format!(
                "The secure connection to {host} failed: its security certificate is not trusted \
                 by this computer or the server does not speak https. Check the address (http:// \
                 or https://) with whoever runs the server."
            ),
        )
        .retryable(false)
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
    {
        Error::new(
            ErrorCode::Unreachable,
            format!(
                "Could not find the server {host}. Check the address and your internet connection."
            ),
        )
    } else if e.is_redirect() {
        Error::new(
            ErrorCode::Redirected,
            format!("{host} redirected too many times. Check the server address."),
        )
        .retryable(false)
    } else if e.is_connect() || lower.contains("connection refused") {
        Error::new(
            ErrorCode::Unreachable,
            format!(
                "Could not connect to {host}. The server may be down, or the address is wrong; check it and your internet connection."
            ),
        )
    } else if e.is_body()
        || e.is_request()
        || lower.contains("connection reset")
        || lower.contains("broken pipe")
        || lower.contains("closed")
    {
        Error::new(
            ErrorCode::Unreachable,
            format!("The connection to {host} was interrupted."),
        )
    } else if e.is_decode() {
        not_oxen(server, "its answer could not be read")
    } else {
        Error::new(
            ErrorCode::Unreachable,
            format!("Talking to {host} failed. Check your connection."),
        )
    };
    err.with_detail(chain)
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
