//! Servers that are not (or not only) Oxen servers, for the cases a real oxen-server cannot
//! produce: a web page, garbage, someone else's JSON, a redirect to another host. Each records
//! the requests it received, so tests can check what a client sent (e.g. no API key).

use std::sync::{Arc, Mutex};

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
                    let (status, ctype, body, extra) = match &behavior {
                        Behavior::Html => ("200 OK", "text/html", "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>".to_owned(), String::new()),
                        Behavior::Garbage => ("200 OK", "application/octet-stream", "\u{1}\u{2}garbage\u{0}{[".to_owned(), String::new()),
                        Behavior::ForeignJson => ("200 OK", "application/json", r#"{"message":"Not Found","documentation_url":"https://docs.example.com"}"#.to_owned(), String::new()),
                        Behavior::RedirectTo(to) => ("302 Found", "text/plain", String::new(), format!("location: {to}{path}\r\n")),
                        Behavior::FakeOxenVersion => ("200 OK", "application/json", r#"{"status":"success","status_message":"resource_found","oxen_version":"0.65.2"}"#.to_owned(), String::new()),
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

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
