//! nginx in front of oxen-server: the way self-hosters add authentication (every request needs
//! `Authorization: Bearer <key>` or gets 401, and the key can be changed while running), and an
//! https front with a certificate nobody trusts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::server::free_port;

#[derive(Debug)]
pub struct AuthProxy {
    nginx: Nginx,
    upstream: u16,
    key: String,
}

impl AuthProxy {
    pub fn start(upstream: u16, key: &str) -> AuthProxy {
        let dir = temp_dir("oxdrop-nginx-");
        let port = free_port();
        std::fs::write(conf_path(&dir), auth_conf(dir.path(), port, upstream, key))
            .expect("nginx.conf");
        AuthProxy {
            nginx: Nginx::start(dir, port),
            upstream,
            key: key.to_owned(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.nginx.port)
    }

    /// Accepts only `key` from now on. Returns once no worker that knew the old key is left and
    /// the old key is refused, so the next request anyone makes sees the new one.
    pub fn set_key(&mut self, key: &str) {
        let dir = self.nginx.dir.path();
        std::fs::write(
            conf_path(&self.nginx.dir),
            auth_conf(dir, self.nginx.port, self.upstream, key),
        )
        .expect("nginx.conf");
        self.nginx.reload();
        let old = std::mem::replace(&mut self.key, key.to_owned());
        let status = status_with_key(self.nginx.port, &old);
        assert_eq!(
            status,
            Some(401),
            "nginx still answers the old key after its reload; error.log:\n{}",
            self.nginx.error_log()
        );
    }
}

/// nginx serving https with a self-signed certificate in front of a server: what a client sees
/// when a server's certificate is not trusted.
#[derive(Debug)]
pub struct SelfSignedTls {
    nginx: Nginx,
}

impl SelfSignedTls {
    pub fn start(upstream: u16) -> SelfSignedTls {
        let dir = temp_dir("oxdrop-tls-");
        let d = dir.path();
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .arg("-keyout")
            .arg(d.join("key.pem"))
            .arg("-out")
            .arg(d.join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(made.success(), "openssl could not make a certificate");
        let port = free_port();
        let p = d.display();
        let conf = format!(
            r#"{prelude}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {p}/cert.pem;
    ssl_certificate_key {p}/key.pem;
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
}}
"#,
            prelude = prelude(d),
        );
        std::fs::write(conf_path(&dir), conf).expect("nginx.conf");
        SelfSignedTls {
            nginx: Nginx::start(dir, port),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.nginx.port)
    }
}

/// One nginx master and its workers, in a process group of their own so that none of them
/// outlives the test (killing only the master leaves its workers serving).
#[derive(Debug)]
struct Nginx {
    master: Child,
    port: u16,
    dir: TempDir,
}

impl Nginx {
    /// Runs the configuration already written in `dir` and waits until `port` takes connections
    /// and a worker is up (the master listens before it starts its workers).
    fn start(dir: TempDir, port: u16) -> Nginx {
        let master = Command::new(nginx_bin())
            .args(["-e", "stderr", "-c"])
            .arg(conf_path(&dir))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (run the setup script)");
        let mut nginx = Nginx { master, port, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        let master = nginx.master.id();
        while TcpStream::connect(("127.0.0.1", port)).is_err() || workers_of(master).is_empty() {
            if let Ok(Some(status)) = nginx.master.try_wait() {
                panic!("nginx exited ({status}); error.log:\n{}", nginx.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not start; error.log:\n{}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// Reloads the configuration (SIGHUP) and waits until the workers started before it are gone
    /// and a new one is up. Until then an old worker can still take a request with the old
    /// configuration; a fixed pause was not enough on a loaded machine.
    fn reload(&mut self) {
        let master = self.master.id();
        let old = workers_of(master);
        assert!(!old.is_empty(), "nginx has no worker to replace");
        kill(Pid::from_raw(master as i32), Signal::SIGHUP).expect("SIGHUP to nginx");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = workers_of(master);
            let replaced = !now.is_empty() && now.iter().all(|w| !old.contains(w));
            if replaced {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not replace its workers {old:?} within 60 s (now {now:?}); error.log:\n{}",
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM is nginx's fast shutdown: the master stops its workers at once (instead of
        // letting them finish connections a test left open) and exits after them.
        let group = Pid::from_raw(self.master.id() as i32);
        let _ = kill(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matches!(self.master.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (a stuck master, an orphaned worker) is killed, as
        // `desktop::KilledGroup` does for tauri-driver.
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.master.wait();
    }
}

/// The living processes whose parent is `master`: nginx's workers (and its cache helpers, which
/// these configurations do not start).
fn workers_of(master: u32) -> Vec<u32> {
    processes()
        .filter(|p| p.parent == master)
        .map(|p| p.pid)
        .collect()
}

struct Process {
    pid: u32,
    parent: u32,
}

/// Every living process, read from /proc (zombies are left out: they serve nothing).
fn processes() -> impl Iterator<Item = Process> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid …": comm may hold spaces and parentheses.
            let mut rest = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let state = rest.next()?;
            let parent = rest.next()?.parse().ok()?;
            (state != "Z").then_some(Process { pid, parent })
        })
}

/// The status nginx answers `GET /api/version` with when sent `key`, over a plain socket so the
/// harness does not depend on the code under test.
fn status_with_key(port: u16, key: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "GET /api/version HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// The part both configurations share: one worker, logs and temporary files in `dir`.
fn prelude(dir: &Path) -> String {
    let d = dir.display();
    // nginx run as root drops to "nobody" for its workers, who could not read a temp dir.
    let user = if nix::unistd::Uid::effective().is_root() {
        "user root root;"
    } else {
        ""
    };
    format!(
        r#"{user}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;"#
    )
}

fn auth_conf(dir: &Path, port: u16, upstream: u16, key: &str) -> String {
    format!(
        r#"{prelude}
  map $http_authorization $key_ok {{
    "Bearer {key}" 1;
    default 0;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    location / {{
      if ($key_ok = 0) {{ return 401; }}
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_read_timeout 900s;
      proxy_send_timeout 900s;
    }}
  }}
}}
"#,
        prelude = prelude(dir),
    )
}

fn conf_path(dir: &TempDir) -> PathBuf {
    dir.path().join("nginx.conf")
}

fn temp_dir(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
}

fn nginx_bin() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}
