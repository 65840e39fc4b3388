//! A real headless Chromium driven through Debian's chromedriver (fantoccini, W3C WebDriver)
//! against the real `hearken serve` on port 0, on stores built with `hearken generate` and
//! `hearken import`.
//!
//! Chromium and chromedriver are required where `HEARKEN_REQUIRE_BROWSER=1` (set by .ci/run, which
//! installs them): without them every test fails with a message saying how to install them.
//! Elsewhere (a developer's machine without Chromium) each test prints why it skips and passes.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Script that sets a flag if it ever runs: in a customer's name, a signal's text and its topic.
pub const PWN: &str = "<script>window.__pwned=1</script>";

pub fn hearken() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hearken"));
    c.env_remove("RUST_LOG").env_remove("HEARKEN_DB");
    c
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = hearken()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run hearken");
    assert!(
        out.status.success(),
        "hearken {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A store with a generated organisation and tokens.
pub struct Org {
    pub dir: tempfile::TempDir,
    pub admin: String,
    pub viewer: String,
    pub smb: String,
}

impl Org {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("h.db")
    }

    pub fn run(&self, args: &[&str]) -> String {
        let db = self.db();
        let mut all = vec!["--db", db.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        run(self.dir.path(), &all)
    }

    fn token(&self, name: &str, role: &str, extra: &[&str]) -> String {
        let mut args = vec!["tokens", "create", "--name", name, "--role", role];
        args.extend_from_slice(extra);
        self.run(&args)
            .lines()
            .next()
            .expect("token line")
            .trim()
            .to_string()
    }
}

/// Generates `customers` customers over `months` months (seed 5), adds `extra_signals` lines
/// (CSV rows of signals.csv) and hostile names, and imports everything.
pub fn build_org(customers: u64, months: u32, extra_signals: &[String]) -> Org {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut org = Org {
        dir,
        admin: String::new(),
        viewer: String::new(),
        smb: String::new(),
    };
    let data = org.dir.path().join("data");
    let data_s = data.to_str().expect("utf-8").to_string();
    org.run(&[
        "generate",
        "--out",
        &data_s,
        "--customers",
        &customers.to_string(),
        "--months",
        &months.to_string(),
        "--seed",
        "5",
    ]);
    let add = |file: &str, lines: &[String]| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join(file))
            .expect("open");
        for l in lines {
            writeln!(f, "{l}").expect("append");
        }
    };
    add(
        "customers.csv",
        &[format!(
            "CX1,\"{PWN} Ann\",smb,senior,2025-01-02,1000,false,"
        )],
    );
    let mut signals = vec![format!(
        "SX1,2025-03-04T10:00:00Z,email,complaint,customer,CX1,,,,,\"{PWN}topic\",\"{PWN} my invoice is wrong\""
    )];
    signals.extend_from_slice(extra_signals);
    add("signals.csv", &signals);
    for (file, kind) in [
        ("customers.csv", "customers"),
        ("products.csv", "products"),
        ("agents.csv", "agents"),
        ("signals.csv", "signals"),
        ("surveys.csv", "surveys"),
        ("case_events.csv", "case-events"),
    ] {
        let path = data.join(file);
        org.run(&["import", path.to_str().expect("utf-8"), "--kind", kind]);
    }
    org.admin = org.token("admin1", "admin", &[]);
    org.viewer = org.token("viewer1", "viewer", &[]);
    org.smb = org.token("smb1", "viewer", &["--segment", "smb"]);
    org
}

/// The small organisation every dashboard test uses (built once).
pub fn small() -> &'static Org {
    static ORG: OnceLock<Org> = OnceLock::new();
    ORG.get_or_init(|| build_org(300, 3, &[]))
}

/// `hearken serve --bind 127.0.0.1:0` on `org`'s store; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(org: &Org) -> Server {
    let db = org.db();
    let mut child = hearken()
        .current_dir(org.dir.path())
        .args([
            "--db",
            db.to_str().expect("utf-8"),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hearken serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("not an address: {first:?}"))
        .to_string();
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

/// chromedriver on a free port, and a Chromium session with a fresh profile; both stopped when
/// dropped.
pub struct Browser {
    driver: Child,
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The Chromium flags of every test: headless, no sandbox (containers), nothing on the network.
pub const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// The variable that makes a missing Chromium a failure (set by .ci/run).
pub const REQUIRE: &str = "HEARKEN_REQUIRE_BROWSER";

/// Whether Chromium and chromedriver are installed. When they are not: a failure if
/// `HEARKEN_REQUIRE_BROWSER=1`, else `false` after printing why `test` skips.
pub fn have_browser(test: &str) -> bool {
    let missing: Vec<String> = [(CHROMEDRIVER, "chromium-driver"), (CHROMIUM, "chromium")]
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(path, package)| format!("{path} (package {package})"))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} missing: the browser tests need Debian's chromium and chromium-driver \
         (`apt-get install -y chromium chromium-driver`, as .ci/run does)",
        missing.join(" and ")
    );
    let required = std::env::var(REQUIRE).is_ok_and(|v| v == "1");
    assert!(!required, "{message}; {REQUIRE}=1 makes this a failure");
    eprintln!("SKIPPED {test}: {message}; set {REQUIRE}=1 to make this a failure");
    false
}

pub async fn browser() -> Browser {
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen on {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let mut args: Vec<String> = FLAGS.iter().map(|s| (*s).to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
    });
    let Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot start a Chromium session through chromedriver: {e}"));
    Browser {
        driver,
        client,
        _profile: profile,
    }
}

/// Signs in through the form (the browser was sent to it by the page it asked for).
pub async fn sign_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/")).await.expect("goto");
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/signin", "an anonymous visit goes to sign in");
    c.find(Locator::Css("#token"))
        .await
        .expect("token field")
        .send_keys(token)
        .await
        .expect("type the token");
    c.find(Locator::Css("form.signin button"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("submit");
    // The form's answer may still be on its way when the click returns: wait for it (at most
    // 30 s), then say what the page says if it is not the overview.
    let start = Instant::now();
    let mut url = c.current_url().await.expect("url");
    while url.path() != "/" && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = c.current_url().await.expect("url");
    }
    if url.path() != "/" {
        let text = js(c, "return document.body.innerText").await;
        panic!("not signed in at {base}: on {url}, which says {text}");
    }
}

/// Runs `script` (a function body) and returns its value.
pub async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, Vec::new()).await.expect("run script")
}

/// The rows of the signals list on the current page.
pub async fn listed_rows(c: &Client) -> u64 {
    js(
        c,
        "return document.querySelectorAll('#list tbody tr').length",
    )
    .await
    .as_u64()
    .expect("a count")
}

/// `hearken demo --serve` in `dir` (its default ./hearken.db) on port 0: the lines it printed up
/// to and including the sign-in token, the dashboard's URL and the token.
pub struct Demo {
    child: Child,
    pub printed: String,
    pub base: String,
    pub token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn demo_serve(dir: &Path) -> Demo {
    let mut child = hearken()
        .current_dir(dir)
        .args([
            "demo",
            "--serve",
            "--customers",
            "200",
            "--months",
            "2",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hearken demo --serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut printed = String::new();
    let mut base = String::new();
    let mut token_next = false;
    let token = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("demo --serve stopped before printing a token:\n{printed}"))
            .expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        if token_next {
            break line.trim().to_string();
        }
        if let Some(url) = line.strip_prefix("the dashboard: ") {
            base = url.trim().trim_end_matches('/').to_string();
        }
        token_next = line.starts_with("sign in with this token");
    };
    // Keep reading: a closed pipe would fail the server's next line of output.
    std::thread::spawn(move || lines.for_each(drop));
    Demo {
        child,
        printed,
        base,
        token,
    }
}
