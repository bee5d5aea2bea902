//! Servers that are not (or not only) Oxen servers, for the cases a real oxen-server cannot
//! produce: a web page, garbage, someone else's JSON, a redirect to another host, an answer of
//! endless size, a folder listing that never ends. Each records the requests it received, so
//! tests can check what a client sent (e.g. no API key).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub enum Behavior {
    /// 200 with an HTML page, like a captive portal or a web server's default page.
    Html,
    /// 200 with bytes that are not JSON.
    Garbage,
    /// 200 with JSON that is not Oxen's (a different API at that address).
    ForeignJson,
    /// 302 to this URL (path and query appended).
    RedirectTo(String),
    /// 200 `{"status":"success","oxen_version":"0.65.2"}` for every request: looks like Oxen.
    FakeOxenVersion,
    /// 200 `application/json` whose body is `bytes` of whitespace, written `chunk` bytes at a
    /// time with `pause` between chunks, with or without a Content-Length. Never held in memory.
    HugeJson {
        bytes: u64,
        chunk: usize,
        pause: Duration,
        declare_length: bool,
    },
    /// Every request gets the same page of a folder listing, which claims 4,294,967,295 pages.
    EndlessPages,
}

#[derive(Debug)]
pub struct HostileServer {
    port: u16,
    /// The request heads received (request line and headers), in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HostileServer {
    pub async fn start(behavior: Behavior) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let behavior = behavior.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
                    seen.lock().expect("requests").push(text);
                    if let Behavior::HugeJson {
                        bytes,
                        chunk,
                        pause,
                        declare_length,
                    } = &behavior
                    {
                        let _ =
                            stream_whitespace(&mut stream, *bytes, *chunk, *pause, *declare_length)
                                .await;
                        return;
                    }
                    let (status, ctype, body, extra) = match &behavior {
                        Behavior::Html => ("200 OK", "text/html", "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>".to_owned(), String::new()),
                        Behavior::Garbage => ("200 OK", "application/octet-stream", "\u{1}\u{2}garbage\u{0}{[".to_owned(), String::new()),
                        Behavior::ForeignJson => ("200 OK", "application/json", r#"{"message":"Not Found","documentation_url":"https://docs.example.com"}"#.to_owned(), String::new()),
                        Behavior::RedirectTo(to) => ("302 Found", "text/plain", String::new(), format!("location: {to}{path}\r\n")),
                        Behavior::FakeOxenVersion => ("200 OK", "application/json", r#"{"status":"success","status_message":"resource_found","oxen_version":"0.65.2"}"#.to_owned(), String::new()),
                        Behavior::EndlessPages => ("200 OK", "application/json", endless_page(), String::new()),
                        Behavior::HugeJson { .. } => unreachable!("streamed above"),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(resp.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        HostileServer {
            port,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

/// One page of 1,000 files that says it is page 1 of 4,294,967,295.
fn endless_page() -> String {
    let entries: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"filename": format!("file-{i:04}.bin"), "is_dir": false, "size": 1, "hash": "1"}))
        .collect();
    serde_json::json!({
        "status": "success", "status_message": "resource_found", "oxen_version": "0.65.2",
        "entries": entries, "page_size": 1000, "page_number": 1,
        "total_pages": u32::MAX, "total_entries": u64::from(u32::MAX) * 1000,
    })
    .to_string()
}

async fn stream_whitespace(
    stream: &mut tokio::net::TcpStream,
    bytes: u64,
    chunk: usize,
    pause: Duration,
    declare_length: bool,
) -> std::io::Result<()> {
    let length = if declare_length {
        format!("content-length: {bytes}\r\n")
    } else {
        String::new()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let spaces = vec![b' '; chunk.max(1)];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(spaces.len() as u64) as usize;
        stream.write_all(&spaces[..n]).await?;
        left -= n as u64;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    stream.shutdown().await
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// This process's memory: `VmHWM` (peak) or `VmRSS` (now) from /proc/self/status, in bytes.
fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Measures how far this process's peak memory rises above its current use while `work` runs
/// (the peak is reset first through /proc/self/clear_refs, so earlier peaks do not hide it).
pub async fn peak_memory_growth<T>(work: impl std::future::Future<Output = T>) -> (T, u64) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = proc_status_bytes("VmRSS:");
    let out = work.await;
    let peak = proc_status_bytes("VmHWM:");
    (out, peak.saturating_sub(before))
}
