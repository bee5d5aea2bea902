//! A fault-injecting HTTP/1.1 proxy in front of the real oxen-server: it forwards requests one by
//! one and, following a script, resets a connection in the middle of a request body, freezes one
//! there (no byte taken, no answer, the sockets kept open), holds back a response, loses one,
//! rewrites one, or answers in the server's place (429 with Retry-After, 500, 502, 503). It counts
//! what it did so tests can assert the faults really happened.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxdrop_core::client::{ClientOptions, TIME_SCALE_VAR};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The one time scale of the tests: every timeout, stall bound, retry window and backoff is the
/// shipped one times this (`OXDROP_TIME_SCALE` when set, else 0.2: a 30 s stall bound becomes 6 s,
/// a 2-minute retry window 24 s). Tests never choose timeouts of their own.
pub fn test_time_scale() -> f64 {
    std::env::var(TIME_SCALE_VAR)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(0.2)
}

/// The shipped client options at the tests' time scale.
pub fn test_client_options() -> ClientOptions {
    ClientOptions::scaled(test_time_scale())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Forward this many body bytes, then drop both connections with a reset.
    ResetMidBody { after: u64 },
    /// Forward this many body bytes, then freeze: take no more bytes from the client, never
    /// answer, and keep both sockets open until the proxy goes away — a connection silently dead
    /// in the middle (a NAT entry lost, a laptop lid closed), as the server sees it too.
    FreezeMidBody { after: u64 },
    /// Forward the request, let the server answer, then reset the client's connection instead of
    /// passing the answer on: the request took effect, its answer was lost.
    LoseAnswer,
    /// Forward, then merge this JSON object into the server's JSON answer (a server that says
    /// something else than the real one would).
    PatchJson(&'static str),
    /// Forward the request, then hold the response for this long before sending it.
    Stall(Duration),
    /// Forward, then remove the first entry of the JSON answer's `paths` — what the server does
    /// when it silently drops a file it could not store.
    DropFromPaths,
    /// Answer in the server's place with this status (and `Retry-After` when given), after
    /// reading the request; the server never sees it.
    Respond {
        status: u16,
        retry_after: Option<u64>,
        body: &'static str,
    },
}

/// Which requests a rule applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Substring of "METHOD /path" that selects requests.
    pub matches: String,
    /// Apply to the n-th matching request (1-based), then every `every` after it (0: once).
    pub first: u64,
    pub every: u64,
    pub fault: Fault,
    seen: u64,
}

impl Rule {
    pub fn new(matches: &str, first: u64, every: u64, fault: Fault) -> Rule {
        Rule {
            matches: matches.into(),
            first,
            every,
            fault,
            seen: 0,
        }
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub resets: AtomicU64,
    pub stalls: AtomicU64,
    pub injected: AtomicU64,
    pub dropped: AtomicU64,
    pub frozen: AtomicU64,
    pub answers_lost: AtomicU64,
    pub patched: AtomicU64,
}

#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    pub counters: Arc<Counters>,
    /// Request lines seen, most recent last (bounded).
    pub log: Arc<Mutex<VecDeque<String>>>,
    task: tokio::task::JoinHandle<()>,
    /// Ends every connection, frozen ones included, when the proxy goes away.
    closed: CancellationToken,
}

impl FaultProxy {
    pub async fn start(upstream_port: u16, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let rules = Arc::new(Mutex::new(rules));
        let counters = Arc::new(Counters::default());
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let closed = CancellationToken::new();
        let (r, c, l, k) = (rules.clone(), counters.clone(), log.clone(), closed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (r, c, l, k) = (r.clone(), c.clone(), l.clone(), k.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serve(client, upstream_port, r, c, l) => {}
                        () = k.cancelled() => {}
                    }
                });
            }
        });
        FaultProxy {
            port,
            rules,
            counters,
            log,
            task,
            closed,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.rules.lock().expect("rules") = rules;
    }

    pub fn count(&self, which: &AtomicU64) -> u64 {
        which.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.closed.cancel();
    }
}

struct Head {
    line: String,
    raw: Vec<u8>,
    length: BodyLength,
    close: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum BodyLength {
    None,
    Fixed(u64),
    Chunked,
    UntilClose,
}

async fn read_head<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    is_response: bool,
) -> std::io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut line = String::new();
    let mut first = String::new();
    let mut length = BodyLength::None;
    let mut close = false;
    let mut chunked = false;
    let mut fixed = None;
    loop {
        line.clear();
        let n = r.read_line(&mut line).await?;
        if n == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(line.as_bytes());
        if first.is_empty() {
            first = line.trim_end().to_owned();
            continue;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            fixed = v.trim().parse::<u64>().ok();
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        } else if lower.starts_with("connection:") && lower.contains("close") {
            close = true;
        }
    }
    if chunked {
        length = BodyLength::Chunked;
    } else if let Some(n) = fixed {
        length = if n == 0 {
            BodyLength::None
        } else {
            BodyLength::Fixed(n)
        };
    } else if is_response {
        let status: u16 = first
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        if !(status == 204 || status == 304 || (100..200).contains(&status)) {
            length = BodyLength::UntilClose;
        }
    }
    Ok(Some(Head {
        line: first,
        raw,
        length,
        close,
    }))
}

/// Copies a body from `r` to `w`. With `limit`, stops after that many body bytes and returns
/// `false` (the caller then resets the connection).
async fn copy_body<R, W>(
    r: &mut R,
    w: &mut W,
    length: BodyLength,
    limit: Option<u64>,
) -> std::io::Result<bool>
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut budget = limit.unwrap_or(u64::MAX);
    let mut buf = vec![0u8; 64 * 1024];
    match length {
        BodyLength::None => Ok(true),
        BodyLength::Fixed(mut left) => {
            while left > 0 {
                let want = (left.min(buf.len() as u64)).min(budget.max(1)) as usize;
                let n = r.read(&mut buf[..want]).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                w.write_all(&buf[..n]).await?;
                left -= n as u64;
                budget = budget.saturating_sub(n as u64);
                if limit.is_some() && budget == 0 {
                    w.flush().await?;
                    return Ok(false);
                }
            }
            Ok(true)
        }
        BodyLength::Chunked => {
            let mut line = String::new();
            loop {
                line.clear();
                r.read_line(&mut line).await?;
                w.write_all(line.as_bytes()).await?;
                let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                if size == 0 {
                    // Trailers, then the final CRLF.
                    loop {
                        line.clear();
                        r.read_line(&mut line).await?;
                        w.write_all(line.as_bytes()).await?;
                        if line == "\r\n" || line.is_empty() {
                            return Ok(true);
                        }
                    }
                }
                let mut left = size + 2; // data + CRLF
                while left > 0 {
                    let want = left.min(buf.len() as u64) as usize;
                    let n = r.read(&mut buf[..want]).await?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    w.write_all(&buf[..n]).await?;
                    left -= n as u64;
                    budget = budget.saturating_sub(n as u64);
                }
                if limit.is_some() && budget == 0 {
                    w.flush().await?;
                    return Ok(false);
                }
            }
        }
        BodyLength::UntilClose => {
            tokio::io::copy(r, w).await?;
            Ok(true)
        }
    }
}

async fn discard_body<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    length: BodyLength,
) -> std::io::Result<()> {
    copy_body(r, &mut tokio::io::sink(), length, None)
        .await
        .map(|_| ())
}

fn pick(rules: &Mutex<Vec<Rule>>, line: &str) -> Option<Fault> {
    let mut rules = rules.lock().expect("rules");
    for rule in rules.iter_mut() {
        if !line.contains(&rule.matches) {
            continue;
        }
        rule.seen += 1;
        let hit = rule.seen == rule.first
            || (rule.every > 0
                && rule.seen > rule.first
                && (rule.seen - rule.first) % rule.every == 0);
        if hit {
            return Some(rule.fault.clone());
        }
    }
    None
}

fn reset(stream: &TcpStream) {
    // Linger 0: close() sends RST instead of FIN, as a crashed peer or a dropped NAT entry would.
    let _ = stream.set_zero_linger();
}

async fn serve(
    client: TcpStream,
    upstream_port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    counters: Arc<Counters>,
    log: Arc<Mutex<VecDeque<String>>>,
) -> std::io::Result<()> {
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_r, mut client_w) = client.into_split();
    let (up_r, mut up_w) = upstream.into_split();
    let mut client_r = BufReader::with_capacity(64 * 1024, client_r);
    let mut up_r = BufReader::with_capacity(64 * 1024, up_r);
    loop {
        let Some(req) = read_head(&mut client_r, false).await? else {
            return Ok(());
        };
        counters.requests.fetch_add(1, Ordering::Relaxed);
        {
            let mut l = log.lock().expect("log");
            l.push_back(req.line.clone());
            if l.len() > 2000 {
                l.pop_front();
            }
        }
        let fault = pick(&rules, &req.line);
        if let Some(Fault::Respond {
            status,
            retry_after,
            body,
        }) = &fault
        {
            discard_body(&mut client_r, req.length).await?;
            counters.injected.fetch_add(1, Ordering::Relaxed);
            let reason = match status {
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                _ => "Error",
            };
            let mut resp = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\n",
                body.len()
            );
            if let Some(s) = retry_after {
                resp.push_str(&format!("retry-after: {s}\r\n"));
            }
            resp.push_str("content-type: text/html\r\n\r\n");
            resp.push_str(body);
            client_w.write_all(resp.as_bytes()).await?;
            continue;
        }
        up_w.write_all(&req.raw).await?;
        if let Some(Fault::FreezeMidBody { after }) = fault {
            let complete = copy_body(&mut client_r, &mut up_w, req.length, Some(after)).await?;
            if !complete {
                counters.frozen.fetch_add(1, Ordering::Relaxed);
                // Hold everything open and silent; the proxy's drop ends this task.
                let _held = (client_r, client_w, up_r, up_w);
                let forever = std::future::pending::<std::convert::Infallible>().await;
                match forever {}
            }
        } else if let Some(Fault::ResetMidBody { after }) = fault {
            let complete = copy_body(&mut client_r, &mut up_w, req.length, Some(after)).await?;
            if !complete {
                counters.resets.fetch_add(1, Ordering::Relaxed);
                let client = client_r
                    .into_inner()
                    .reunite(client_w)
                    .map_err(std::io::Error::other)?;
                let upstream = up_r
                    .into_inner()
                    .reunite(up_w)
                    .map_err(std::io::Error::other)?;
                reset(&client);
                reset(&upstream);
                return Ok(());
            }
        } else {
            copy_body(&mut client_r, &mut up_w, req.length, None).await?;
        }
        up_w.flush().await?;
        let Some(resp) = read_head(&mut up_r, true).await? else {
            return Ok(());
        };
        if let Some(Fault::LoseAnswer) = fault {
            discard_body(&mut up_r, resp.length).await?;
            counters.answers_lost.fetch_add(1, Ordering::Relaxed);
            let client = client_r
                .into_inner()
                .reunite(client_w)
                .map_err(std::io::Error::other)?;
            reset(&client);
            return Ok(());
        }
        let rewrites = matches!(fault, Some(Fault::DropFromPaths | Fault::PatchJson(_)));
        if let (true, BodyLength::Fixed(n)) = (rewrites, resp.length) {
            let mut body = vec![0u8; n as usize];
            up_r.read_exact(&mut body).await?;
            let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(paths) = json.get_mut("paths").and_then(|p| p.as_array_mut())
                && !paths.is_empty()
                && fault == Some(Fault::DropFromPaths)
            {
                paths.remove(0);
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            if let (Some(Fault::PatchJson(patch)), Some(answer)) = (&fault, json.as_object_mut())
                && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(patch)
            {
                answer.extend(fields);
                counters.patched.fetch_add(1, Ordering::Relaxed);
            }
            let body = serde_json::to_vec(&json).unwrap_or(body);
            let head: String = String::from_utf8_lossy(&resp.raw)
                .split("\r\n")
                .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:") && !l.is_empty())
                .map(|l| format!("{l}\r\n"))
                .collect();
            client_w
                .write_all(format!("{head}content-length: {}\r\n\r\n", body.len()).as_bytes())
                .await?;
            client_w.write_all(&body).await?;
            client_w.flush().await?;
            continue;
        }
        if let Some(Fault::Stall(d)) = fault {
            counters.stalls.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(d).await;
        }
        client_w.write_all(&resp.raw).await?;
        copy_body(&mut up_r, &mut client_w, resp.length, None).await?;
        client_w.flush().await?;
        if req.close || resp.close || resp.length == BodyLength::UntilClose {
            return Ok(());
        }
    }
}
