//! nginx in front of oxen-server, the way self-hosters add authentication: every request needs
//! `Authorization: Bearer <key>` or gets 401. The key can be changed while running (revocation).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::server::free_port;

#[derive(Debug)]
pub struct AuthProxy {
    child: Child,
    port: u16,
    upstream: u16,
    dir: TempDir,
}

impl AuthProxy {
    pub fn start(upstream: u16, key: &str) -> AuthProxy {
        let dir = tempfile::Builder::new()
            .prefix("oxdrop-nginx-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let mut proxy = AuthProxy {
            child: Command::new("true").spawn().expect("placeholder"),
            port,
            upstream,
            dir,
        };
        proxy.write_conf(key);
        proxy.child = Command::new(nginx_bin())
            .args(["-e", "stderr", "-c"])
            .arg(proxy.conf_path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx (run the setup script)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                panic!("nginx exited: {status}");
            }
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Accepts only `key` from now on (nginx reloads its configuration on SIGHUP).
    pub fn set_key(&mut self, key: &str) {
        self.write_conf(key);
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGHUP);
        // The reload takes effect when the new workers are up.
        std::thread::sleep(Duration::from_millis(700));
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }

    fn write_conf(&self, key: &str) {
        let d = self.dir.path().display();
        let user = if nix::unistd::Uid::effective().is_root() {
            "user root root;"
        } else {
            ""
        };
        let conf = format!(
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
  scgi_temp_path {d}/scgi;
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
            port = self.port,
            upstream = self.upstream,
        );
        std::fs::write(self.conf_path(), conf).expect("nginx.conf");
    }
}

/// nginx serving https with a self-signed certificate in front of a server: what a client sees
/// when a server's certificate is not trusted.
#[derive(Debug)]
pub struct SelfSignedTls {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl SelfSignedTls {
    pub fn start(upstream: u16) -> SelfSignedTls {
        let dir = tempfile::Builder::new()
            .prefix("oxdrop-tls-")
            .tempdir()
            .expect("temp dir");
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
        let user = if nix::unistd::Uid::effective().is_root() {
            "user root root;"
        } else {
            ""
        };
        let p = d.display();
        let conf = format!(
            r#"{user}
worker_processes 1;
daemon off;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {p}/body;
  proxy_temp_path {p}/proxy;
  fastcgi_temp_path {p}/fastcgi;
  uwsgi_temp_path {p}/uwsgi;
  scgi_temp_path {p}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {p}/cert.pem;
    ssl_certificate_key {p}/key.pem;
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
}}
"#
        );
        std::fs::write(d.join("nginx.conf"), conf).expect("conf");
        let mut child = Command::new(nginx_bin())
            .args(["-e", "stderr", "-c"])
            .arg(d.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx (tls) exited: {status}");
            }
            assert!(Instant::now() < deadline, "nginx (tls) did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SelfSignedTls {
            child,
            port,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for SelfSignedTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_bin() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

impl Drop for AuthProxy {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGQUIT);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
