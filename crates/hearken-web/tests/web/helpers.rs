//! A small generated organisation (seed 5, 150 customers, 3 months) with hostile names and texts
//! added, imported once into a store file shared by the tests, with tokens of each role; and the
//! server's application (`hearken_server::app`, the dashboard mounted in it) called in-process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hearken_ingest::{Enriched, Enricher, ReadOptions};
use hearken_model::{Record, RecordKind};
use hearken_store::{NewToken, Role, Scope, Store};
use tower::ServiceExt;

/// Script in a customer's name, a signal's text and its topic: must be escaped everywhere.
pub const BAD_NAME: &str = "<script>alert('name')</script>";
pub const BAD_TEXT: &str = "<script>alert('text')</script> my invoice is wrong";
pub const BAD_TOPIC: &str = "<script>alert('topic')</script>";

pub struct Org {
    _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub viewer: String,
    pub admin: String,
    /// Viewer limited to the segment `smb`.
    pub smb: String,
    pub revoked: String,
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open to append");
    writeln!(f, "{line}").expect("append");
}

/// Sentiment from the text's words (a deterministic stand-in for VADER): enough for net
/// sentiment to have positive, neutral and negative signals.
fn enricher() -> Enricher {
    Enricher(Arc::new(|r: &mut Record| {
        let text = match r {
            Record::Signal(s) => s.text.as_ref().map(|t| t.as_str().to_string()),
            Record::Survey(s) => s.comment.as_ref().map(|t| t.as_str().to_string()),
            Record::CaseEvent(e) => e.text.as_ref().map(|t| t.as_str().to_string()),
            _ => None,
        };
        let Some(t) = text else {
            return Enriched::default();
        };
        let t = t.to_lowercase();
        let bad = [
            "wrong", "angry", "annoyed", "not", "never", "again", "slow", "twice",
        ]
        .iter()
        .filter(|w| t.contains(*w))
        .count() as f32;
        let good = [
            "thank",
            "great",
            "friendly",
            "happy",
            "appreciated",
            "quick",
        ]
        .iter()
        .filter(|w| t.contains(*w))
        .count() as f32;
        Enriched {
            sentiment: Some(((good - bad) / 3.0).clamp(-1.0, 1.0)),
            ..Enriched::default()
        }
    }))
}

pub fn org() -> &'static Org {
    static ORG: OnceLock<Org> = OnceLock::new();
    ORG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let cfg = hearken_gen::GenConfig {
            customers: 150,
            months: 3,
            seed: 5,
            threads: 1,
            ..hearken_gen::GenConfig::default()
        };
        hearken_gen::generate(&cfg, &data, &|_| {}).expect("generate");
        append(
            &data.join("customers.csv"),
            &format!("CX1,\"{BAD_NAME}\",smb,senior,2025-01-02,1000,false,"),
        );
        append(
            &data.join("signals.csv"),
            &format!(
                "SX1,2025-03-04T10:00:00Z,email,complaint,customer,CX1,,,,,\"{BAD_TOPIC}\",\"{BAD_TEXT}\""
            ),
        );
        let db = dir.path().join("web.db");
        let mut store = Store::open(&db).expect("open store");
        for kind in [
            RecordKind::Customers,
            RecordKind::Products,
            RecordKind::Agents,
            RecordKind::Signals,
            RecordKind::Surveys,
            RecordKind::CaseEvents,
        ] {
            let mut opts = ReadOptions::new(kind);
            opts.enrich = Some(enricher());
            let report = store
                .import_file(&data.join(kind.file_name()), &opts, 5_000, &mut |_| {})
                .expect("import");
            assert_eq!(report.counts.quarantined, 0, "{kind:?} imports cleanly");
        }
        let mut token = |name: &str, role: Role, segments: &[&str]| {
            store
                .create_token(&NewToken {
                    name: name.into(),
                    role,
                    scope: Scope {
                        segments: segments.iter().map(|s| (*s).to_string()).collect(),
                        teams: Vec::new(),
                    },
                })
                .expect("token")
                .token
        };
        let viewer = token("viewer1", Role::Viewer, &[]);
        let admin = token("admin1", Role::Admin, &[]);
        let smb = token("smb1", Role::Viewer, &["smb"]);
        let revoked = token("gone1", Role::Viewer, &[]);
        store.revoke_token("gone1").expect("revoke");
        Org {
            _dir: dir,
            db,
            viewer,
            admin,
            smb,
            revoked,
        }
    })
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn app() -> axum::Router {
    // No request timeout to speak of: on a loaded machine a debug build's themes page can take
    // longer than the default 30 s, and these tests are not about time.
    let settings = hearken_server::Settings {
        request_timeout_secs: 3600,
        ..hearken_server::Settings::default()
    };
    let state = hearken_server::AppState::open(&org().db, settings).expect("state");
    hearken_server::app(state)
}

async fn send(req: Request<Body>) -> Answer {
    let res = app().oneshot(req).await.expect("answer");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `GET path` with the session cookie of `token` (none when empty).
pub async fn get(path: &str, token: &str) -> Answer {
    let mut req = Request::get(path);
    if !token.is_empty() {
        req = req.header(header::COOKIE, format!("hearken_session={token}"));
    }
    send(req.body(Body::empty()).expect("request")).await
}

/// `POST /signin` with the form's fields.
pub async fn sign_in(token: &str, next: &str) -> Answer {
    let body = format!("token={token}&next={}", hearken_web::filters::encode(next));
    send(
        Request::post("/signin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

/// The rows of the first table body of a page.
pub fn table_rows(html: &str) -> usize {
    html.split("<tbody>").nth(1).map_or(0, |b| {
        b.split("</tbody>")
            .next()
            .unwrap_or("")
            .matches("<tr>")
            .count()
    })
}

/// The `href` of the first link whose text is `text`.
pub fn link_to(html: &str, text: &str) -> Option<String> {
    let at = html.find(&format!(">{text}</a>"))?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}
