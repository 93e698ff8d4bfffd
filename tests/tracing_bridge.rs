//! The `tracing` bridge: `tracing` events inside a request carry its correlation
//! ID and follow its sampling and error promotion, like `Logger` events.

mod support;

use std::sync::Once;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fapilog::{info, Level, LevelDirectives, Logger};
use fapilog_axum::{SpanFields, TracingBridge};
use fapilog_testing::{LogCapture, TestApp};
use serde_json::json;
use support::{get_over_tcp, messages, unsampled_app};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// One process-wide subscriber for this test binary. `requests_only`: events
/// outside requests reach no capture, so parallel tests stay apart.
fn install_bridge() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber =
            tracing_subscriber::registry().with(TracingBridge::builder().requests_only().build());
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// Stands in for a library (`sqlx`, `reqwest`) that logs through `tracing`.
mod fake_db {
    pub(crate) async fn query(statement: &'static str) -> u64 {
        tracing::debug!(target: "sqlx::query", statement, rows_affected = 1u64, "query");
        1
    }
}

async fn tracing_only() -> &'static str {
    tracing::info!(user = "ada", "handler started");
    fake_db::query("SELECT 1").await;
    tracing::warn!(elapsed_ms = 12.5, "slow-ish");
    "ok"
}

async fn mixed(log: Logger) -> &'static str {
    info!(log, "logger 1");
    tracing::info!("tracing 1");
    info!(log, "logger 2");
    tracing::info!("tracing 2");
    "ok"
}

async fn mixed_then_503(log: Logger) -> StatusCode {
    info!(log, "logger 1");
    tracing::info!("tracing 1");
    info!(log, "logger 2");
    tracing::info!("tracing 2");
    StatusCode::SERVICE_UNAVAILABLE
}

async fn tracing_error() -> &'static str {
    tracing::info!("before");
    let err = std::io::Error::other("db timeout");
    tracing::error!(
        error = &err as &(dyn std::error::Error + 'static),
        "query failed"
    );
    tracing::info!("after");
    "handled"
}

async fn in_spans() -> &'static str {
    async {
        tracing::info!(rows = 3u64, "loaded");
    }
    .instrument(tracing::info_span!("db", table = "orders", region = "eu"))
    .await;
    "ok"
}

fn router() -> Router {
    Router::new()
        .route("/tracing", get(tracing_only))
        .route("/mixed", get(mixed))
        .route("/mixed-503", get(mixed_then_503))
        .route("/tracing-error", get(tracing_error))
        .route("/spans", get(in_spans))
}

#[tokio::test]
async fn tracing_events_in_a_request_over_tcp_carry_its_correlation_id() {
    install_bridge();
    let app = TestApp::new(router()).unwrap();
    let events = get_over_tcp(&app, "/tracing", "tcp-trace-1").await;
    assert_eq!(
        messages(&events),
        ["handler started", "query", "slow-ish", "request completed"]
    );
    let started = &events[0];
    assert_eq!(started.level, Level::Info);
    assert_eq!(started.target.as_deref(), Some("tracing_bridge"));
    assert_eq!(started.field("user"), Some(&json!("ada")));
    assert_eq!(
        (started.sampled, started.sample_rate),
        (Some(true), Some(1.0))
    );
    let query = &events[1];
    assert_eq!(query.level, Level::Debug);
    assert_eq!(query.target.as_deref(), Some("sqlx::query"));
    assert_eq!(query.field("statement"), Some(&json!("SELECT 1")));
    assert_eq!(query.field("rows_affected"), Some(&json!(1)));
    assert_eq!(events[2].field("elapsed_ms"), Some(&json!(12.5)));
}

#[tokio::test]
async fn tracing_events_through_oneshot_carry_the_generated_id() {
    install_bridge();
    let app = TestApp::new(router()).unwrap();
    let res = app.get("/tracing").await.unwrap();
    let id = res.correlation_id().unwrap().to_owned();
    let events = app.flush().unwrap().by_correlation_id(&id);
    assert_eq!(events.len(), 4);
    assert!(events
        .iter()
        .all(|e| e.correlation_id.as_deref() == Some(id.as_str())));
}

#[tokio::test]
async fn an_unsampled_requests_tracing_events_are_discarded_and_counted() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/mixed", "quiet-1").await.unwrap();
    assert_eq!(res.sampled(), Some(false));
    assert!(app.flush().unwrap().by_correlation_id("quiet-1").is_empty());
    let m = app.metrics();
    assert_eq!(m.dropped.sampling, 5); // 2 Logger + 2 tracing + the access log
    assert!(m.is_balanced());
}

#[tokio::test]
async fn a_failing_unsampled_request_writes_all_its_events_in_order() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/mixed-503", "loud-1").await.unwrap();
    assert_eq!(
        (res.status(), res.sampled()),
        (StatusCode::SERVICE_UNAVAILABLE, Some(true))
    );
    let events = app.flush().unwrap().by_correlation_id("loud-1");
    assert_eq!(
        messages(&events),
        [
            "logger 1",
            "tracing 1",
            "logger 2",
            "tracing 2",
            "request completed"
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.promoted && e.sampled == Some(true) && e.sample_rate == Some(0.0)));
    let seqs: Vec<u64> = events.iter().map(|e| e.seq.unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test]
async fn a_tracing_error_promotes_the_request() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/tracing-error", "err-1").await.unwrap();
    assert_eq!((res.status(), res.sampled()), (StatusCode::OK, Some(true)));
    let events = app.flush().unwrap().by_correlation_id("err-1");
    assert_eq!(
        messages(&events),
        ["before", "query failed", "after", "request completed"]
    );
    assert!(events.iter().all(|e| e.promoted));
    let failed = &events[1];
    assert_eq!(failed.level, Level::Error);
    assert_eq!(failed.error.as_ref().unwrap().message, "db timeout");
    let m = app.metrics();
    let promoted = m
        .extra
        .iter()
        .find(|c| c.name == "fapilog_requests_promoted_total")
        .unwrap();
    assert_eq!(promoted.value, 1);
}

#[tokio::test]
async fn span_fields_of_an_instrumented_future_are_flattened() {
    install_bridge();
    let app = TestApp::new(router()).unwrap();
    app.get_with_id("/spans", "span-1").await.unwrap();
    let loaded = app.flush().unwrap().by_message("loaded").remove(0);
    assert_eq!(loaded.correlation_id.as_deref(), Some("span-1"));
    assert_eq!(loaded.field("table"), Some(&json!("orders")));
    assert_eq!(loaded.field("region"), Some(&json!("eu")));
    assert_eq!(loaded.field("rows"), Some(&json!(3)));
}

#[test]
fn outside_requests_events_go_to_the_root_logger_with_its_context() {
    let capture = LogCapture::new().unwrap();
    let bridge = TracingBridge::builder()
        .logger(capture.logger().bind("component", "worker"))
        .span_fields(SpanFields::Prefixed)
        .build();
    let subscriber = tracing_subscriber::registry().with(bridge);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("job", id = 7u64);
        let _entered = span.enter();
        tracing::info!(attempt = 2u64, "job started");
        tracing::trace!("fine detail");
    });
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["job started", "fine detail"]);
    let started = &logs.events()[0];
    assert_eq!(started.correlation_id, None);
    assert_eq!(started.sampled, None);
    assert_eq!(started.field("component"), Some(&json!("worker")));
    assert_eq!(started.field("job.id"), Some(&json!(7)));
    assert_eq!(started.field("attempt"), Some(&json!(2)));
}

#[test]
fn the_pipeline_level_gates_bridged_events_at_run_time() {
    let capture = LogCapture::builder().level(Level::Warn).build().unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(TracingBridge::builder().logger(capture.logger()).build());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("dropped at WARN");
        capture.pipeline().set_level(Level::Info.into());
        tracing::info!("kept at INFO");
    });
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["kept at INFO"]);
    assert_eq!(capture.metrics().submitted, 1);
}

#[test]
fn per_target_directives_gate_bridged_events_by_their_target() {
    let capture = LogCapture::builder()
        .level(Level::Info)
        .pipeline(|b| b.directives(LevelDirectives::parse("info,sqlx=debug,noisy=error").unwrap()))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(TracingBridge::builder().logger(capture.logger()).build());
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "sqlx::query", "query");
        tracing::debug!(target: "elsewhere", "hidden debug");
        tracing::warn!(target: "noisy", "hidden warn");
        tracing::error!(target: "noisy", "noisy error");
    });
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["query", "noisy error"]);
    assert_eq!(logs.events()[0].target.as_deref(), Some("sqlx::query"));
}

#[tokio::test]
async fn tracing_events_in_an_inner_services_call_carry_the_request_id() {
    use tower::{Layer, ServiceExt};

    install_bridge();
    let app = TestApp::new(router()).unwrap();
    // Logs in `call`, before its future exists (axum's router defers `call`,
    // so this needs the layer over a plain service).
    let inner = tower::service_fn(|_req: http::Request<axum::body::Body>| {
        tracing::info!("in call");
        async {
            tracing::info!("in future");
            Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
        }
    });
    let service = app.layer().clone().layer(inner);
    let req = http::Request::get("/inner")
        .header("x-request-id", "inner-trace-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let events = app.flush().unwrap().by_correlation_id("inner-trace-1");
    assert_eq!(
        messages(&events),
        ["in call", "in future", "request completed"]
    );
}
