//! In-process tests of `hearken_server::app`, for what the served binary must not contain: a
//! route that panics.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use hearken_server::{AppState, Settings};
use tower::ServiceExt;

async fn body_json(res: axum::response::Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("read body");
    serde_json::from_slice(&bytes).expect("JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_answers_500_with_the_request_id_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::open(&dir.path().join("t.db"), Settings::default()).expect("state");
    let extra = axum::Router::new().route(
        "/boom",
        get(|| async {
            if true {
                panic!("deliberate test panic");
            }
            "unreachable"
        }),
    );
    let app = hearken_server::app_with(state, extra);

    let res = app
        .clone()
        .oneshot(
            Request::get("/boom")
                .header("x-request-id", "panic-1")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("panic-1")
    );
    let v = body_json(res).await;
    assert_eq!(v["code"], "internal");
    assert_eq!(v["request_id"], "panic-1");
    assert!(
        !v.to_string().contains("deliberate"),
        "the panic message is logged, not sent: {v}"
    );

    // The same app goes on serving.
    let res = app
        .oneshot(
            Request::get("/health")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
}
