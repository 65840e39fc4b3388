//! Dashboard page times in a real headless Chromium (benches/web/run.sh runs it).
//!
//! `web_bench BASE_URL TOKEN [RUNS]`: signs in with TOKEN at BASE_URL (a running `hearken
//! serve`), opens every dashboard page RUNS times (default 3) and prints, per page, the
//! Navigation Timing of each load: `loadEventEnd` (the page complete in the browser, from the
//! navigation's start) and `responseEnd` (the server's answer received), in milliseconds, as a
//! Markdown table with the median and the slowest run. Needs Debian's chromium and
//! chromium-driver at /usr/bin.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

const PAGES: [&str; 12] = [
    "/",
    "/topics",
    "/themes",
    "/pareto",
    "/pareto?by=product",
    "/drivers",
    "/flow",
    "/customers",
    "/signals",
    "/quarantine",
    "/report",
    "/admin/tokens",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(token)) = (args.get(1), args.get(2)) else {
        return Err("usage: web_bench BASE_URL TOKEN [RUNS]".into());
    };
    let runs: usize = args.get(3).map_or(Ok(3), |r| r.parse())?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("cannot start {CHROMEDRIVER} (apt-get install chromium-driver): {e}")
        })?;
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = driver.kill();
            return Err("chromedriver did not listen within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile = tempfile::tempdir()?;
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--window-size=1280,900",
            format!("--user-data-dir={}", profile.path().display()),
        ]}
    });
    let Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let result = async {
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        c.goto(&format!("{base}/signin")).await?;
        c.find(Locator::Css("#token")).await?.send_keys(token).await?;
        c.find(Locator::Css("form.signin button")).await?.click().await?;
        // The form's answer may still be on its way when the click returns.
        let start = Instant::now();
        while c.current_url().await?.path() != "/" && start.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if c.current_url().await?.path() != "/" {
            return Err::<_, Box<dyn std::error::Error>>("sign-in failed: is the token right?".into());
        }
        println!("| page | first load, complete (ms) | complete, median (ms) | complete, slowest (ms) | server answer, median (ms) | bytes |");
        println!("|---|---:|---:|---:|---:|---:|");
        let measure = async |p: &str| -> Result<(), Box<dyn std::error::Error>> {
            let mut complete = Vec::new();
            let mut answer = Vec::new();
            let mut bytes = 0.0;
            for _ in 0..runs {
                c.goto(&format!("{base}{p}")).await?;
                let t = c
                    .execute(
                        "const n = performance.getEntriesByType('navigation')[0];
                         return [n.loadEventEnd - n.startTime, n.responseEnd - n.startTime, n.transferSize];",
                        vec![],
                    )
                    .await?;
                let t: Vec<f64> = t
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                if t.len() != 3 || t[0] <= 0.0 {
                    return Err(format!("no navigation timing for {p}: {t:?}").into());
                }
                complete.push(t[0]);
                answer.push(t[1]);
                bytes = t[2];
            }
            let title = c.title().await?;
            if title.starts_with("Error") || title.contains("refused") {
                return Err(format!("{p} answered an error page: {title}").into());
            }
            let first = complete[0];
            complete.sort_by(f64::total_cmp);
            answer.sort_by(f64::total_cmp);
            println!(
                "| `{}` | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                p.replace('|', "%7C"),
                first,
                complete[complete.len() / 2],
                complete[complete.len() - 1],
                answer[answer.len() / 2],
                bytes
            );
            Ok(())
        };
        // Every page first, so its first load is the first time the server is asked for it
        // (answers other pages share may already be kept), then one figure followed to its
        // signals and one customer's page, found on the pages.
        for p in PAGES {
            measure(p).await?;
        }
        let mut extra = Vec::new();
        c.goto(&format!("{base}/")).await?;
        let figure = c
            .execute("const a = document.querySelector('#channels td.num a'); return a ? a.getAttribute('href') : null", vec![])
            .await?;
        if let Some(href) = figure.as_str() {
            extra.push(href.to_string());
        }
        c.goto(&format!("{base}/customers")).await?;
        let customer = c
            .execute("const a = document.querySelector('#customers td a'); return a ? a.getAttribute('href') : null", vec![])
            .await?;
        if let Some(href) = customer.as_str() {
            extra.push(href.to_string());
        }
        for p in &extra {
            measure(p).await?;
        }
        c.close().await?;
        Ok(())
    }
    .await;
    let _ = driver.kill();
    let _ = driver.wait();
    result
}
