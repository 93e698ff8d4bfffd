//! Requests dropped before they answer (the client went away, or a panic the
//! layer does not catch): counted, their held events settled, their access
//! event written; against a real server on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Router};
use fapilog::{info, Logger};
use fapilog_axum::{current_logger, with_logger, FapilogLayer, SamplingConfig};
use http::StatusCode;
use support::harness::{json_messages, Harness};
use support::server::{get as http_get, serve, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Tells the test when the stuck handler runs, and its background task when to log.
#[derive(Clone, Default)]
struct Signals {
    started: Arc<Notify>,
    late: Arc<Notify>,
    logged_late: Arc<Notify>,
}

/// Logs twice, leaves the request's logger with a background task, and never answers.
async fn stuck(log: Logger, Extension(signals): Extension<Signals>) -> &'static str {
    info!(log, "working");
    info!(log, "still working");
    let task = signals.clone();
    tokio::spawn(with_logger(log, async move {
        task.late.notified().await;
        if let Some(log) = current_logger() {
            info!(log, "late detail");
        }
        task.logged_late.notify_one();
    }));
    signals.started.notify_one();
    std::future::pending().await
}

/// Holds four events, then fails: all four are written if the budget allows.
async fn chatty(log: Logger) -> StatusCode {
    for n in 0..4u64 {
        info!(log, "chatter", n);
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn boom(log: Logger) -> &'static str {
    info!(log, "before the panic");
    panic!("not caught by the layer");
}

fn app(layer: FapilogLayer, signals: &Signals) -> Router {
    Router::new()
        .route("/stuck", get(stuck))
        .route("/chatty", get(chatty))
        .route("/boom", get(boom))
        .layer(Extension(signals.clone()))
        .layer(layer)
}

/// Sends `GET path` with `id` and returns the open connection, nothing read.
async fn send_get(addr: std::net::SocketAddr, path: &str, id: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nhost: test\r\nx-request-id: {id}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Requests `/stuck` and closes the connection once the handler runs.
async fn abandon(addr: std::net::SocketAddr, id: &str, signals: &Signals) {
    let stream = send_get(addr, "/stuck", id).await;
    within("the handler to start", signals.started.notified()).await;
    drop(stream);
}

/// Waits (at most 60 s, like the suite's other bounded waits: a loaded CI
/// machine may be slow to notice the closed connection) until the layer's
/// counter `name` reaches `n`.
async fn until_counted(h: &Harness, name: &str, n: u64) {
    within(&format!("{name} to reach {n}"), async {
        while h.counter(name) < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_kept_request_the_client_abandoned_is_logged_as_cancelled() {
    let h = Harness::new();
    let signals = Signals::default();
    let (addr, stop, _) = serve(app(h.layer().build().unwrap(), &signals)).await;
    abandon(addr, "gone-1", &signals).await;
    until_counted(&h, "fapilog_requests_cancelled_total", 1).await;
    signals.late.notify_one();
    within("the late event", signals.logged_late.notified()).await;
    let _ = stop.send(());

    let events = h.for_id("gone-1");
    let messages = json_messages(&events);
    assert_eq!(
        messages,
        [
            "working",
            "still working",
            "request cancelled",
            "late detail"
        ]
    );
    let access = &events[2];
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["target"], "fapilog_axum::access");
    assert_eq!(
        (&access["method"], &access["path"]),
        (&"GET".into(), &"/stuck".into())
    );
    assert!(access["latency_ms"].as_f64().is_some(), "{access}");
    assert!(access.get("status").is_none() && access.get("response_bytes").is_none());
    assert_eq!(h.counter("fapilog_requests_total"), 1);
    assert_eq!(h.counter("fapilog_requests_kept_total"), 1);
    assert!(h.pipeline.metrics().is_balanced());
}

#[tokio::test]
async fn an_unkept_abandoned_request_gives_back_its_budget_and_holds_nothing_more() {
    let h = Harness::new();
    let signals = Signals::default();
    let layer = h
        .layer()
        .sampling(SamplingConfig::new().rate(0.0).unwrap())
        .request_buffer(4)
        .global_buffer(4)
        .build()
        .unwrap();
    let (addr, stop, _) = serve(app(layer, &signals)).await;
    abandon(addr, "gone-2", &signals).await;
    until_counted(&h, "fapilog_requests_cancelled_total", 1).await;
    // The background task still holds the abandoned request's logger, but
    // its two held events were discarded: the whole budget is free again.
    let failed = http_get(addr, "/chatty", &[("x-request-id", b"chatty-1")]).await;
    assert_eq!(failed.header("x-log-sampled"), Some("true"));
    assert_eq!(h.counter("fapilog_request_budget_exhausted_total"), 0);
    // After its request has ended, the task's INFO is discarded, not held.
    signals.late.notify_one();
    within("the late event", signals.logged_late.notified()).await;
    let _ = stop.send(());

    assert!(h.for_id("gone-2").is_empty());
    assert_eq!(h.numbers_for("chatty-1"), [0, 1, 2, 3]);
    assert_eq!(h.counter("fapilog_requests_unkept_total"), 1);
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 1);
    let m = h.pipeline.metrics();
    // Two held events and the access event at the end, then the late INFO.
    assert_eq!(m.dropped.sampling, 4);
    assert!(m.is_balanced());
}

#[tokio::test]
async fn a_panic_the_layer_does_not_catch_still_fails_and_promotes_the_request() {
    let h = Harness::new();
    let layer = h
        .layer()
        .sampling(SamplingConfig::new().rate(0.0).unwrap())
        .catch_panics(false)
        .build()
        .unwrap();
    let (addr, stop, _) = serve(app(layer, &Signals::default())).await;
    let mut stream = send_get(addr, "/boom", "boom-1").await;
    let mut answer = Vec::new();
    let _ = within("the server to close", stream.read_to_end(&mut answer)).await;
    until_counted(&h, "fapilog_requests_total", 1).await;
    let _ = stop.send(());

    let events = h.for_id("boom-1");
    assert_eq!(
        json_messages(&events),
        ["before the panic", "request failed"]
    );
    assert!(events.iter().all(|e| e["promoted"] == true), "{events:?}");
    assert_eq!(events[1]["level"], "ERROR");
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 1);
    assert_eq!(h.counter("fapilog_requests_cancelled_total"), 0);
    assert_eq!(h.counter("fapilog_handler_panics_total"), 0);
    assert!(h.pipeline.metrics().is_balanced());
}
