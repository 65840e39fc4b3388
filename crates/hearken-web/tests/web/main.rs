//! The dashboard through the server's application, in-process: sign-in and the cookie, roles and
//! scopes on every page, filters in the URL, escaping of hostile names and texts, figures that
//! link to exactly their rows, and the weekly report's HTML (snapshot).
//! The browser tests (real Chromium against `hearken serve`) are in crates/hearken-cli/tests/browser.

mod helpers;

use axum::http::StatusCode;
use helpers::{BAD_NAME, BAD_TEXT, BAD_TOPIC, get, link_to, org, sign_in, table_rows};

const PAGES: [&str; 14] = [
    "/",
    "/topics",
    "/themes",
    "/pareto",
    "/drivers",
    "/flow",
    "/customers",
    "/customers/CX1",
    "/signals",
    "/quarantine",
    "/actions",
    "/report?week=2025-W10",
    "/admin/tokens",
    "/signals.csv",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session_and_sign_in_sets_a_strict_http_only_cookie() {
    let o = org();
    let a = get("/pareto?by=topic", "").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        a.location(),
        "/signin?reason=signin&next=%2Fpareto%3Fby%3Dtopic"
    );
    let form = get(a.location(), "").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("Sign in with a token to see this page"),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("name=\"next\" value=\"/pareto?by=topic\""),
        "{}",
        form.body
    );

    let ok = sign_in(&o.viewer, "/pareto?by=topic").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/pareto?by=topic");
    let cookie = ok.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("hearken_session={}", o.viewer)),
        "{cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: no Secure flag: {cookie}"
    );

    // A wrong token: the form again, with why; never a cookie.
    let bad = sign_in(&format!("hk_{}", "0".repeat(64)), "/").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get("set-cookie").is_none());
    assert!(
        bad.body.contains("not valid for this server"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("<!doctype html>"),
        "an HTML page, not JSON: {}",
        bad.body
    );
    let junk = sign_in("letmein", "/").await;
    assert!(junk.body.contains("not a Hearken token"), "{}", junk.body);
    // A next that leaves the site is not followed.
    let away = sign_in(&o.viewer, "//evil.example/").await;
    assert_eq!(away.location(), "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_in_the_cookie_is_sent_to_sign_in_with_the_reason() {
    let o = org();
    let a = get("/flow", &o.revoked).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        a.location().starts_with("/signin?reason=revoked_token"),
        "{}",
        a.location()
    );
    let cookie = a.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Max-Age=0"),
        "the cookie is dropped: {cookie}"
    );
    let form = get(a.location(), "").await;
    assert!(form.body.contains("has been revoked"), "{}", form.body);
    let unknown = get("/", &format!("hk_{}", "a".repeat(64))).await;
    assert!(
        unknown
            .location()
            .starts_with("/signin?reason=invalid_token")
    );
    let out = sign_in(&o.revoked, "/").await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED);
    assert!(out.body.contains("revoked"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_for_an_admin() {
    let o = org();
    for p in PAGES {
        let a = get(p, &o.admin).await;
        assert_eq!(a.status, StatusCode::OK, "{p}: {}", a.body);
        if p.ends_with(".csv") {
            assert!(a.body.starts_with("id,at,channel"), "{p}");
            continue;
        }
        assert!(a.body.starts_with("<!doctype html>"), "{p}");
        assert!(a.body.contains("<h1>"), "{p}");
        assert_eq!(a.headers["cache-control"], "no-store", "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_texts_names_and_topics_is_escaped_on_every_page() {
    let o = org();
    for p in PAGES.iter().copied().chain([
        "/signals?customer=CX1",
        "/signals?topic=%3Cscript%3Ealert(%27topic%27)%3C%2Fscript%3E",
        "/pareto?by=topic",
        "/report?week=2025-W10",
    ]) {
        if p.ends_with(".csv") {
            continue;
        }
        let a = get(p, &o.admin).await;
        assert!(!a.body.contains("<script"), "{p} has a raw <script>");
    }
    let customer = get("/customers/CX1", &o.admin).await;
    // Escaped (askama writes numeric entities: &#60;script&#62;), shown as text.
    assert!(
        customer.body.contains("script&#62;alert(&#39;name&#39;)"),
        "{}",
        customer.body
    );
    let list = get("/signals?customer=CX1", &o.admin).await;
    assert_eq!(table_rows(&list.body), 1, "{}", list.body);
    assert!(
        list.body.contains("script&#62;alert(&#39;text&#39;)"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("script&#62;alert(&#39;topic&#39;)"),
        "{}",
        list.body
    );
    let csv = get("/signals.csv?customer=CX1", &o.admin).await;
    assert!(
        csv.body.contains(BAD_TEXT) && csv.body.contains(BAD_TOPIC) && csv.body.contains(BAD_NAME),
        "CSV keeps the text as it is: {}",
        csv.body
    );
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_reach_admin_pages_and_does_not_see_them_in_the_menu() {
    let o = org();
    let v = get("/admin/tokens", &o.viewer).await;
    assert_eq!(v.status, StatusCode::FORBIDDEN);
    assert!(v.body.contains("needs the admin role"), "{}", v.body);
    assert!(
        !v.body.contains("viewer1</td>"),
        "no token listed: {}",
        v.body
    );
    let home = get("/", &o.viewer).await;
    assert!(!home.body.contains("href=\"/admin/tokens\""));
    let a = get("/admin/tokens", &o.admin).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body.contains("viewer1") && a.body.contains("smb1"),
        "{}",
        a.body
    );
    assert!(
        !a.body.contains(&o.viewer),
        "a token's secret is never shown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_token_sees_only_its_slice() {
    let o = org();
    let list = get("/signals", &o.smb).await;
    assert_eq!(list.status, StatusCode::OK);
    let body = list.body.split("<tbody>").nth(1).unwrap();
    let rows = body.matches("<tr>").count();
    assert!(rows > 0);
    assert_eq!(
        body.matches("<td>smb</td>").count(),
        rows,
        "every listed signal is of segment smb"
    );
    // A filter outside the scope is refused, not answered with nothing.
    let other = get("/signals?segment=enterprise", &o.smb).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.body);
    assert!(other.body.contains("out_of_scope"));
    for page in ["/quarantine", "/actions"] {
        let q = get(page, &o.smb).await;
        assert!(
            q.body.contains("out_of_scope"),
            "{page}: store-wide records are not shown: {}",
            q.body
        );
    }
    // The overview's count of signals is the slice's: the same as the unscoped filter.
    let scoped = get("/", &o.smb).await;
    let filtered = get("/?segment=smb", &o.admin).await;
    let count = |html: &str| {
        let at = html
            .find("<span class=\"label\">signals</span>")
            .expect("signals figure");
        let v = &html[at..];
        let a = v.find("\">").unwrap() + 2;
        v[a..a + v[a..].find('<').unwrap()].to_string()
    };
    assert_eq!(count(&scoped.body), count(&filtered.body));
    assert!(
        scoped.body.contains("smb1 (viewer, segments smb)"),
        "who is signed in, with the scope"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_live_in_the_url_and_bad_ones_are_refused() {
    let o = org();
    let blank = get("/pareto?from=&to=&segment=smb&product=&channel=", &o.viewer).await;
    assert_eq!(blank.status, StatusCode::SEE_OTHER);
    assert_eq!(blank.location(), "/pareto?segment=smb");
    let page = get("/pareto?segment=smb", &o.viewer).await;
    assert!(
        page.body.contains("name=\"segment\" value=\"smb\""),
        "the form shows the URL's filter"
    );
    assert!(
        page.body.contains("href=\"/?segment=smb\""),
        "navigation keeps the filters"
    );
    let typo = get("/pareto?segmnet=smb", &o.viewer).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert!(typo.body.contains("segmnet"), "{}", typo.body);
    let unknown = get("/flow?team=nosuch", &o.viewer).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    let unknown = get("/signals?segment=nosuch", &o.viewer).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body.contains("smb"),
        "the known segments are listed: {}",
        unknown.body
    );
    let topic = get("/?topic=x", &o.viewer).await;
    assert_eq!(
        topic.status,
        StatusCode::BAD_REQUEST,
        "a filter a page cannot honour is refused"
    );
    let missing = get("/customers/NOPE", &o.viewer).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.starts_with("<!doctype html>"),
        "an HTML page, not the API's JSON"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_figure_links_to_exactly_its_rows() {
    let o = org();
    let home = get("/?from=2025-01-01&to=2025-04-01", &o.viewer).await;
    // Each channel's count links to a list of that many signals.
    let table = home
        .body
        .split("<caption>Signals per channel</caption>")
        .nth(1)
        .expect("the channel table");
    let body = table
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    let mut checked = 0;
    for row in body.split("<tr>").skip(1).take(3) {
        let count_cell = row.split("<td class=\"num\">").nth(1).expect("count cell");
        let href = count_cell
            .split("href=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("count link")
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        let n: usize = count_cell
            .split("\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        let mut listed = 0;
        let mut next = Some(href.clone());
        while let Some(url) = next {
            let page = get(&url, &o.viewer).await;
            listed += table_rows(&page.body);
            next = link_to(&page.body, "Next page");
        }
        assert_eq!(listed, n, "{href}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_report_is_one_fixed_page_and_an_empty_week_says_so() {
    let o = org();
    let store = hearken_store::Store::open(&o.db).unwrap();
    let scope = hearken_query::Scope::all();
    let week = hearken_web::report::Week::parse("2025-W10").unwrap();
    let r = hearken_web::report::build(&store, &scope, &week).unwrap();
    let html = hearken_web::report::render(&r, false).unwrap();
    insta::assert_snapshot!("report_2025_w10", html);
    let empty = hearken_web::report::build(
        &store,
        &scope,
        &hearken_web::report::Week::parse("2030-W01").unwrap(),
    )
    .unwrap();
    assert!(empty.empty);
    let html = hearken_web::report::render(&empty, false).unwrap();
    assert!(html.contains("No data for 2030-W01"));
    assert!(!html.contains("<table"), "no table of zeros");
    let page = get("/report?week=2025-W99", &o.viewer).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("no week 99"));
}

/// The report's actions section: an action done in the week is listed, and an action whose
/// 28-day after window closed in the week shows the effect `hearken actions effect` measures
/// (the query layer's `action_effect`, the same figures); a week with neither says so.
#[test]
fn the_report_lists_the_weeks_actions_and_the_effects_that_came_due() {
    use hearken_ingest::ReadOptions;
    use hearken_model::RecordKind;
    use hearken_query::{CreateActionRequest, EffectRequest, Scope, UpdateActionRequest};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = hearken_gen::GenConfig {
        customers: 3000,
        months: 3,
        seed: 11,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).unwrap();
    let mut store = hearken_store::Store::open(&dir.path().join("a.db")).unwrap();
    for kind in [
        RecordKind::Customers,
        RecordKind::Products,
        RecordKind::Agents,
        RecordKind::Signals,
    ] {
        store
            .import_file(
                &data.join(kind.file_name()),
                &ReadOptions::new(kind),
                5_000,
                &mut |_| {},
            )
            .unwrap();
    }
    let scope = Scope::all();
    let top = hearken_query::pareto(
        &store,
        &scope,
        &hearken_query::ParetoRequest {
            by: hearken_query::By::Topic,
            ..hearken_query::ParetoRequest::default()
        },
    )
    .unwrap()
    .top[0]
        .entity
        .clone();
    let mut done = |title: &str, done_at: &str| -> i64 {
        let a = hearken_query::create_action(
            &mut store,
            &scope,
            &CreateActionRequest {
                title: title.into(),
                owner: Some("Billing".into()),
                metric: Some("volume".into()),
                created_at: Some("2025-01-02".into()),
                topics: vec![top.clone()],
                ..CreateActionRequest::default()
            },
            "test",
        )
        .unwrap();
        let id = a.action.id;
        for (status, at) in [
            ("planned", "2025-01-03"),
            ("in_progress", "2025-01-04"),
            ("done", done_at),
        ] {
            hearken_query::update_action(
                &mut store,
                &scope,
                id,
                &UpdateActionRequest {
                    status: Some(status.into()),
                    at: Some(at.into()),
                    ..UpdateActionRequest::default()
                },
                "test",
            )
            .unwrap();
        }
        id
    };
    let earlier = done("Refunds in one step", "2025-02-05");
    done("Clearer invoice wording", "2025-03-04");

    let week = hearken_web::report::Week::parse("2025-W10").unwrap();
    let r = hearken_web::report::build(&store, &scope, &week).unwrap();
    assert_eq!(r.actions.len(), 2, "{:?}", r.actions);
    assert_eq!(
        r.actions[0],
        "Done Tue 4 Mar: Clearer invoice wording (Billing), on volume; its effect is measured after 28 days."
    );
    let effect =
        hearken_query::action_effect(&store, &scope, earlier, &EffectRequest::default()).unwrap();
    let did = effect.effect.did.estimate.change.expect("an estimate");
    assert!(
        r.actions[1].starts_with("Effect of Refunds in one step (done 5 Feb 2025): volume ")
            && r.actions[1].contains(&format!("{:+.1}%", did * 100.0))
            && r.actions[1].contains("90% interval"),
        "{}",
        r.actions[1]
    );
    let html = hearken_web::report::render(&r, false).unwrap();
    assert!(html.contains("Clearer invoice wording"));

    // The actions page lists both, newest first, each done one with the same effect text.
    let page = hearken_web::pages::actions::build(
        &store,
        &scope,
        &hearken_web::filters::PageQuery::default(),
    );
    let actions = &page.sections[0].tables[0].rows;
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0][1].text, "Clearer invoice wording");
    assert_eq!(actions[1][1].text, "Refunds in one step");
    assert_eq!(actions[1][2].text, "done");
    assert_eq!(actions[1][3].text, "2025-02-05");
    assert!(
        r.actions[1].ends_with(&actions[1][7].text),
        "{} / {}",
        r.actions[1],
        actions[1][7].text
    );

    let later = hearken_web::report::build(
        &store,
        &scope,
        &hearken_web::report::Week::parse("2025-W12").unwrap(),
    )
    .unwrap();
    assert_eq!(
        later.actions,
        ["No improvement action was done this week, and none has an effect due."]
    );
}

/// The CSV download is every matching signal or a refusal, never a cut list: at the cap it is
/// whole, one row above it is refused with a pointer to the streaming export.
#[test]
fn the_csv_download_is_whole_or_refused_never_cut() {
    let o = org();
    let store = hearken_store::Store::open(&o.db).unwrap();
    let scope = hearken_query::Scope::all();
    let pq = hearken_web::filters::PageQuery {
        channel: Some("email".into()),
        ..Default::default()
    };
    let all = hearken_web::pages::signals::csv(&store, &scope, &pq).unwrap();
    // Records, not lines (texts hold line breaks): a record starts with its id and its date.
    let rows = all
        .lines()
        .skip(1)
        .filter(|l| {
            l.starts_with('S') && l.split(',').nth(1).is_some_and(|f| f.starts_with("2025-"))
        })
        .count();
    assert!(rows > 1, "the org has e-mail signals");
    let exact = hearken_web::pages::signals::csv_at_most(&store, &scope, &pq, rows).unwrap();
    assert_eq!(exact, all);
    let err = hearken_web::pages::signals::csv_at_most(&store, &scope, &pq, rows - 1).unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (413, "too_many_rows"));
    assert!(
        err.message
            .contains(&format!("a download holds at most {}", rows - 1)),
        "{}",
        err.message
    );
}
