//! Running the real `hearken serve` on port 0 against a fresh store file, and a small blocking
//! HTTP/1.1 client (enough for these tests, and able to send a body slowly or in pieces).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// The `hearken` binary of this build. Tests of this crate do not get it from cargo (it belongs
/// to hearken-cli), so it is built once here, in the same target directory and profile
/// (`HEARKEN_BIN` overrides).
pub fn hearken_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("HEARKEN_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/server-<hash>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable in target/<profile>/deps");
        let target_dir = profile_dir.parent().expect("target dir");
        let mut build = Command::new(env!("CARGO"));
        build
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(["build", "--quiet", "-p", "hearken-cli", "--bin", "hearken"])
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build
            .status()
            .expect("run cargo build for the hearken binary");
        assert!(status.success(), "cargo build -p hearken-cli failed");
        profile_dir.join(format!("hearken{}", std::env::consts::EXE_SUFFIX))
    })
}

/// A store in a temporary directory, with one token per role made by `hearken tokens create`.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub viewer: String,
    pub analyst: String,
    pub admin: String,
    /// The PostgreSQL database the store is in, instead of the file `test.db`.
    pub url: Option<String>,
}

impl Env {
    pub fn new() -> Env {
        Env::with_store(None)
    }

    /// An environment whose store is the PostgreSQL database at `url` (`--db` / HEARKEN_DB).
    pub fn postgres(url: &str) -> Env {
        Env::with_store(Some(url.to_string()))
    }

    /// An environment on the existing store at `store` (a file or a URL), creating no token.
    pub fn existing(store: &str) -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            viewer: String::new(),
            analyst: String::new(),
            admin: String::new(),
            url: Some(store.to_string()),
        }
    }

    fn with_store(url: Option<String>) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = Env {
            dir,
            viewer: String::new(),
            analyst: String::new(),
            admin: String::new(),
            url,
        };
        env.viewer = env.create_token("viewer1", "viewer", &[]);
        env.analyst = env.create_token("analyst1", "analyst", &[]);
        env.admin = env.create_token("admin1", "admin", &[]);
        env
    }

    pub fn db(&self) -> PathBuf {
        match &self.url {
            Some(url) => PathBuf::from(url),
            None => self.dir.path().join("test.db"),
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(hearken_bin());
        c.current_dir(self.dir.path())
            .env("HEARKEN_DB", self.db())
            .env_remove("RUST_LOG");
        c
    }

    /// Runs `hearken ARGS`, asserting success; returns stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run hearken");
        assert!(
            out.status.success(),
            "hearken {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// `hearken tokens create` with `extra` flags; returns the secret (the first line of stdout).
    pub fn create_token(&self, name: &str, role: &str, extra: &[&str]) -> String {
        let mut args = vec!["tokens", "create", "--name", name, "--role", role];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        out.lines().next().expect("a token line").trim().to_string()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }

    /// Starts `hearken -v serve --bind 127.0.0.1:0` (with `./hearken.toml` when written) and
    /// reads the bound address from its first line of output.
    pub fn serve(&self) -> Server {
        self.serve_with(&["-v"])
    }

    /// Starts `hearken GLOBAL... serve --bind 127.0.0.1:0` (no `-v` with `&[]`).
    pub fn serve_with(&self, global: &[&str]) -> Server {
        let log = self.dir.path().join(format!(
            "server-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut child = self
            .cmd()
            .args(global)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn hearken serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines.read_line(&mut first).expect("read the first line");
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "first line is not the address: {first:?}; log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .parse()
            .expect("a socket address");
        Server {
            child,
            addr,
            log,
            _stdout: lines,
        }
    }
}

/// A running `hearken serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an error answer in the documented shape with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "status; body {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "error content type"
        );
        let v = self.json();
        assert_eq!(v["code"], code, "{v}");
        for field in ["message", "hint", "request_id"] {
            assert!(
                v[field].as_str().is_some_and(|s| !s.is_empty()),
                "error field {field} in {v}"
            );
        }
        assert_eq!(
            v["request_id"].as_str(),
            self.header("x-request-id"),
            "the body's request id is the header's"
        );
        v
    }
}

impl Server {
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect to the server");
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        s
    }

    /// One request on a fresh connection (`Connection: close`).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let mut s = self.connect();
        // Head and body in one write: a server that answers before reading the body (401, 413)
        // then finds it already read, and closes without resetting the connection.
        let mut req = head(method, path, token, headers, body.map(<[u8]>::len));
        req.extend_from_slice(body.unwrap_or_default());
        let _ = s.write_all(&req);
        read_response(&mut s)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request("GET", path, token, &[], None)
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        self.request(
            "POST",
            path,
            token,
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM to the server process (this test's own child, by its id).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

/// The request line and headers; `Content-Length` when the body length is given.
pub fn head(
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body_len: Option<usize>,
) -> Vec<u8> {
    let mut h = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(t) = token {
        h.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = body_len {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// Reads one response to the end of the connection; decodes a chunked body.
pub fn read_response(s: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    // A server that answers before the body was read may reset the connection after the answer.
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&b[start..(start + size).min(b.len())]);
        b = &b[(start + size + 2).min(b.len())..];
    }
}
