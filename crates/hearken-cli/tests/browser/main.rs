//! The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven with
//! fantoccini) against the real `hearken serve` binary on port 0: sign-in, a figure followed to
//! exactly its signals, filters kept in the URL across a reload, a scoped token's slice, a
//! viewer kept out of admin pages, script in names and texts never run, axe-core on every page,
//! and the weekly report printed to exactly one A4 page for a small, a typical and a very busy
//! organisation.
//!
//! Without Chromium they fail where `HEARKEN_REQUIRE_BROWSER=1` (CI), and skip with a printed
//! reason elsewhere (helpers::have_browser).
//!
//! Browser tests take a while each (a Chromium per test); they run one at a time.

mod helpers;

use fantoccini::Locator;
use helpers::{
    Org, browser, build_org, demo_serve, have_browser, js, listed_rows, serve, sign_in, small,
};
use serde_json::Value;
use tokio::sync::Mutex;

/// One Chromium at a time: the machine has two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const AXE: &str = include_str!("vendor/axe-core/axe.min.js");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_follow_a_figure_to_its_signals_and_keep_filters_in_the_url() {
    if !have_browser("sign_in_follow_a_figure_to_its_signals_and_keep_filters_in_the_url") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let org = small();
    let server = serve(org);
    let b = browser().await;
    let c = &b.client;
    sign_in(c, &server.base, &org.admin).await;

    // The first channel's count on the overview, followed to its list.
    let link = c
        .find(Locator::Css("#channels td.num a"))
        .await
        .expect("a channel's count");
    let figure: u64 = link
        .text()
        .await
        .expect("text")
        .replace(',', "")
        .parse()
        .expect("a number");
    assert!(figure > 0);
    let before = c.current_url().await.expect("url");
    link.click().await.expect("follow the figure");
    let url = navigated(c, &before).await;
    assert_eq!(url.path(), "/signals");
    assert!(url.query().unwrap_or("").contains("channel="), "{url}");
    let mut listed = listed_rows(c).await;
    while let Ok(next) = c.find(Locator::LinkText("Next page")).await {
        let before = c.current_url().await.expect("url");
        next.click().await.expect("next page");
        navigated(c, &before).await;
        listed += listed_rows(c).await;
    }
    assert_eq!(
        listed, figure,
        "the list holds exactly the figure's signals"
    );

    // A filter set in the form lands in the URL and survives a reload.
    c.goto(&format!("{}/pareto", server.base))
        .await
        .expect("goto");
    let all_contacts = js(
        c,
        "return document.querySelector('#customer .stat:nth-child(3) .value').textContent.trim()",
    )
    .await;
    let before_filter = c.current_url().await.expect("url");
    c.find(Locator::Css("input[name=segment]"))
        .await
        .expect("segment field")
        .send_keys("smb")
        .await
        .expect("type");
    c.find(Locator::Css("form.filters button"))
        .await
        .expect("apply")
        .click()
        .await
        .expect("submit");
    // The form's GET, then the server's redirect without the blank fields.
    let url = navigated(c, &before_filter).await;
    assert_eq!(
        url.query(),
        Some("segment=smb"),
        "blank fields are dropped from the URL"
    );
    c.refresh().await.expect("reload");
    let kept = js(
        c,
        "return document.querySelector('input[name=segment]').value",
    )
    .await;
    assert_eq!(kept, Value::from("smb"));
    let smb_contacts = js(
        c,
        "return document.querySelector('#customer .stat:nth-child(3) .value').textContent.trim()",
    )
    .await;
    let cli: Value = serde_json::from_str(&org.run(&[
        "pareto",
        "--by",
        "customer",
        "--segment",
        "smb",
        "--json",
    ]))
    .expect("json");
    assert_eq!(
        smb_contacts.as_str().map(|s| s.replace(',', "")),
        cli["contacts"].as_u64().map(|n| n.to_string()),
        "the filtered page shows the CLI's figure for the same filter"
    );
    assert_ne!(all_contacts, smb_contacts);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_token_sees_only_its_slice() {
    if !have_browser("a_scoped_token_sees_only_its_slice") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let org = small();
    let server = serve(org);
    let b = browser().await;
    let c = &b.client;
    sign_in(c, &server.base, &org.smb).await;
    c.goto(&format!("{}/signals", server.base))
        .await
        .expect("goto");
    let segments = js(c, "return [...document.querySelectorAll('#list tbody tr td:nth-child(6)')].map(td => td.textContent)").await;
    let segments = segments.as_array().expect("list");
    assert!(!segments.is_empty());
    assert!(segments.iter().all(|s| s == "smb"), "{segments:?}");
    // The slice's figures are the CLI's for the segment.
    c.goto(&format!("{}/pareto?by=product", server.base))
        .await
        .expect("goto");
    let page = js(
        c,
        "return document.querySelector('#product .stat:nth-child(3) .value').textContent.trim()",
    )
    .await;
    let cli: Value = serde_json::from_str(&org.run(&[
        "pareto",
        "--by",
        "product",
        "--segment",
        "smb",
        "--json",
    ]))
    .expect("json");
    assert_eq!(
        page.as_str().map(|s| s.replace(',', "")),
        cli["contacts"].as_u64().map(|n| n.to_string())
    );
    // Another segment is refused; store-wide pages too.
    c.goto(&format!("{}/signals?segment=enterprise", server.base))
        .await
        .expect("goto");
    let text = js(c, "return document.body.innerText").await;
    assert!(
        text.as_str().unwrap_or("").contains("out_of_scope"),
        "{text}"
    );
    c.goto(&format!("{}/quarantine", server.base))
        .await
        .expect("goto");
    let text = js(c, "return document.body.innerText").await;
    assert!(
        text.as_str().unwrap_or("").contains("out_of_scope"),
        "{text}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_reach_admin_pages() {
    if !have_browser("a_viewer_cannot_reach_admin_pages") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let org = small();
    let server = serve(org);
    let b = browser().await;
    let c = &b.client;
    sign_in(c, &server.base, &org.viewer).await;
    let admin_links = js(
        c,
        "return document.querySelectorAll('nav a[href=\"/admin/tokens\"]').length",
    )
    .await;
    assert_eq!(
        admin_links,
        Value::from(0),
        "no admin page in a viewer's menu"
    );
    c.goto(&format!("{}/admin/tokens", server.base))
        .await
        .expect("goto");
    let text = js(c, "return document.body.innerText").await;
    let text = text.as_str().unwrap_or("");
    assert!(text.contains("needs the admin role"), "{text}");
    assert!(!text.contains("viewer1\t"), "no token listed");
    // Signing out drops the session.
    c.find(Locator::Css("form.signout button"))
        .await
        .expect("sign out")
        .click()
        .await
        .expect("click");
    c.goto(&format!("{}/", server.base)).await.expect("goto");
    assert_eq!(c.current_url().await.expect("url").path(), "/signin");
    b.close().await;
}

/// Every page an admin can open, with one customer and one case.
/// The URL once the page has moved away from `from` and finished loading: a click starts a
/// navigation, and the driver may hand back control before it ends. Waits up to 20 s (a
/// condition, not a speed check).
async fn navigated(c: &fantoccini::Client, from: &url::Url) -> url::Url {
    for _ in 0..200 {
        let url = c.current_url().await.expect("url");
        let ready = js(c, "return document.readyState").await;
        if &url != from && ready == "complete" {
            return url;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page did not move away from {from} in 20 s");
}

async fn pages(c: &fantoccini::Client, base: &str) -> Vec<String> {
    let mut pages: Vec<String> = [
        "/",
        "/topics",
        "/themes",
        "/pareto",
        "/drivers",
        "/flow",
        "/customers",
        "/signals",
        "/quarantine",
        "/actions",
        "/report",
        "/admin/tokens",
        "/customers/CX1",
    ]
    .iter()
    .map(|p| (*p).to_string())
    .collect();
    c.goto(&format!("{base}/customers")).await.expect("goto");
    let customer = js(
        c,
        "return document.querySelector('#customers td a').getAttribute('href')",
    )
    .await;
    let customer = customer.as_str().expect("a customer link").to_string();
    c.goto(&format!("{base}{customer}")).await.expect("goto");
    let case = js(c, "const a = document.querySelector('a[href^=\"/cases/\"]'); return a ? a.getAttribute('href') : null").await;
    pages.push(customer);
    if let Some(case) = case.as_str() {
        pages.push(case.to_string());
    }
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_has_a_serious_or_critical_accessibility_violation() {
    if !have_browser("no_page_has_a_serious_or_critical_accessibility_violation") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    assert!(
        AXE.starts_with("/*! axe v4.14.1"),
        "the vendored axe-core is 4.14.1 (PROVENANCE.md)"
    );
    let org = small();
    let server = serve(org);
    let b = browser().await;
    let c = &b.client;
    // The sign-in form first, then every page signed in.
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    c.goto(&format!("{}/signin", server.base))
        .await
        .expect("goto");
    check_axe(c, "/signin", &mut failures).await;
    checked.push("/signin".to_string());
    sign_in(c, &server.base, &org.admin).await;
    for p in pages(c, &server.base).await {
        c.goto(&format!("{}{p}", server.base)).await.expect("goto");
        check_axe(c, &p, &mut failures).await;
        checked.push(p);
    }
    assert!(checked.len() >= 14, "{checked:?}");
    assert!(
        failures.is_empty(),
        "serious or critical violations:\n{}",
        failures.join("\n")
    );
    b.close().await;
}

async fn check_axe(c: &fantoccini::Client, page: &str, failures: &mut Vec<String>) {
    c.execute(AXE, Vec::new()).await.expect("inject axe-core");
    let out = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))))
               .catch(e => done({ error: String(e) }));",
            Vec::new(),
        )
        .await
        .expect("run axe-core");
    let Some(violations) = out.as_array() else {
        panic!("axe-core failed on {page}: {out}");
    };
    for v in violations {
        let impact = v["impact"].as_str().unwrap_or("");
        if impact == "serious" || impact == "critical" {
            failures.push(format!(
                "{page}: {impact} {} ({}) at {}",
                v["id"], v["help"], v["nodes"]
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_names_texts_and_topics_never_runs() {
    if !have_browser("script_in_names_texts_and_topics_never_runs") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let org = small();
    let server = serve(org);
    let b = browser().await;
    let c = &b.client;
    sign_in(c, &server.base, &org.admin).await;
    for p in [
        "/customers/CX1",
        "/signals?customer=CX1",
        "/topics",
        "/pareto?by=topic",
        "/report?week=2025-W10",
    ] {
        c.goto(&format!("{}{p}", server.base)).await.expect("goto");
        let ran = js(c, "return window.__pwned === 1").await;
        assert_eq!(ran, Value::from(false), "a script ran on {p}");
    }
    c.goto(&format!("{}/customers/CX1", server.base))
        .await
        .expect("goto");
    let h1 = js(c, "return document.querySelector('h1').textContent").await;
    assert!(
        h1.as_str()
            .unwrap_or("")
            .contains("<script>window.__pwned=1</script> Ann"),
        "shown as text: {h1}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_loads_the_demo_once_and_prints_a_url_and_a_token_that_signs_in() {
    if !have_browser("demo_serve_loads_the_demo_once_and_prints_a_url_and_a_token_that_signs_in") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let first = demo_serve(dir.path());
    assert!(
        first.printed.contains("2/3 importing into"),
        "{}",
        first.printed
    );
    assert!(
        first.base.starts_with("http://127.0.0.1:"),
        "{}",
        first.printed
    );
    assert!(first.token.starts_with("hk_"), "{}", first.printed);
    let b = browser().await;
    let c = &b.client;
    sign_in(c, &first.base, &first.token).await;
    let n = js(
        c,
        "return document.querySelectorAll('#channels td.num a').length",
    )
    .await;
    assert!(
        n.as_u64().unwrap_or(0) > 0,
        "the overview shows the demo's channels"
    );
    drop(first);
    // A second run finds the store and serves it as it is, with a new token.
    let second = demo_serve(dir.path());
    assert!(
        second.printed.contains("already holds"),
        "{}",
        second.printed
    );
    assert!(
        !second.printed.contains("1/3 generating"),
        "{}",
        second.printed
    );
    // Cookies are per host, not per port: the first server's session would sign in here too.
    c.delete_all_cookies().await.expect("drop cookies");
    sign_in(c, &second.base, &second.token).await;
    b.close().await;
}

/// Prints the report of `week` to PDF with `hearken report --pdf` and checks it is one A4 page.
fn one_a4_page(org: &Org, week: &str, what: &str) {
    let pdf = org.dir.path().join(format!("report-{what}.pdf"));
    org.run(&[
        "report",
        "--week",
        week,
        "--pdf",
        pdf.to_str().expect("utf-8"),
    ]);
    let bytes = std::fs::read(&pdf).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF"), "{what}: not a PDF");
    assert_eq!(
        hearken_web::pdf::page_count(&bytes),
        1,
        "{what}: exactly one page"
    );
    for (w, h) in hearken_web::pdf::media_boxes(&bytes) {
        assert!(
            (w - 595.0).abs() < 1.5 && (h - 842.0).abs() < 1.5,
            "{what}: A4, not {w} x {h}"
        );
    }
}

#[test]
fn the_report_pdf_is_one_a4_page_for_small_typical_and_very_busy_organisations() {
    if !have_browser("the_report_pdf_is_one_a4_page_for_small_typical_and_very_busy_organisations")
    {
        return;
    }
    assert!(
        hearken_web::pdf::find_chromium().is_some(),
        "chromium is missing: `hearken report --pdf` needs it (`apt-get install -y chromium`, as .ci/run does)"
    );
    one_a4_page(small(), "2025-W10", "small");
    let typical = build_org(3_000, 3, &[]);
    one_a4_page(&typical, "2025-W10", "typical");
    // Very busy: hundreds of extra signals in the week, on topics with long names, with long texts.
    let long = "an exceptionally long topic name that goes on and on about billing, invoices, refunds and the many ways they can go wrong";
    let mut extra = Vec::new();
    for i in 0..600 {
        let topic = format!("{long} {:02}", i % 25);
        extra.push(format!(
            "SB{i},2025-03-0{}T{:02}:00:00Z,phone,complaint,customer,C00000{:02},,,,,\"{topic}\",\"{}\"",
            4 + i % 4,
            i % 24,
            1 + i % 90,
            "I am very angry, the invoice is wrong again and nobody calls back; this is unacceptable. ".repeat(6)
        ));
    }
    let busy = build_org(3_000, 3, &extra);
    // And many actions with long titles: done in the week, and done four weeks before (their
    // effect falls due in the week and is measured for the page).
    let title = "Rewrite every invoice template, retrain the billing team and call back each customer who was charged twice";
    for i in 1..=12 {
        let topic = format!("{long} {:02}", i % 25);
        busy.run(&[
            "actions",
            "create",
            "--title",
            &format!("{title} ({i})"),
            "--owner",
            "Billing operations and the customer care leadership team",
            "--metric",
            "volume",
            "--created-at",
            "2025-01-02",
            "--topic",
            &topic,
        ]);
        let done = if i % 2 == 0 {
            "2025-03-05"
        } else {
            "2025-02-05"
        };
        for (status, at) in [
            ("planned", "2025-01-03"),
            ("in_progress", "2025-01-04"),
            ("done", done),
        ] {
            busy.run(&[
                "actions",
                "update",
                &i.to_string(),
                "--status",
                status,
                "--at",
                at,
            ]);
        }
    }
    let html = busy.run(&["report", "--week", "2025-W10"]);
    assert!(html.contains("And 9 more"), "{html}");
    one_a4_page(&busy, "2025-W10", "very busy");
    // An empty week is one page too, and says so.
    let out = small().run(&["report", "--week", "2031-W02"]);
    assert!(out.contains("No data for 2031-W02"));
}
