//! The layer's request counters: what each request and held event adds, read
//! from the pipeline's snapshot and from its Prometheus text.

mod support;

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use fapilog::{info, Logger};
use fapilog_axum::{FapilogLayer, SamplingConfig};
use http::StatusCode;
use support::harness::{json_messages, Harness};
use support::server::{get as http_get, serve, within};
use tokio::sync::Notify;

async fn ok(log: Logger) -> &'static str {
    info!(log, "handling");
    "ok"
}

/// Ten events, then a 500: the request is promoted after its buffer filled.
async fn chatty(log: Logger) -> StatusCode {
    for n in 0..10u64 {
        info!(log, "chatter", n);
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

/// Says when a handler holds its events, and lets it go on.
#[derive(Clone, Default)]
struct Pause {
    holding: Arc<Notify>,
    release: Arc<Notify>,
}

/// Logs three events, waits to be released, then fails (so it is promoted).
async fn hold(log: Logger, Extension(pause): Extension<Pause>) -> StatusCode {
    for n in 0..3u64 {
        info!(log, "holding", n);
    }
    pause.holding.notify_one();
    pause.release.notified().await;
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn boom() -> &'static str {
    panic!("counted");
}

fn app(layer: FapilogLayer, pause: &Pause) -> Router {
    Router::new()
        .route("/ok", get(ok))
        .route("/payments", get(ok))
        .route("/health", get(ok))
        .route("/chatty", get(chatty))
        .route("/panic", get(boom))
        .route("/hold", get(hold))
        .layer(Extension(pause.clone()))
        .layer(layer)
}

fn sampling() -> SamplingConfig {
    SamplingConfig::new()
        .rate(0.0)
        .unwrap()
        .always_path("/payments")
        .unwrap()
        .never_path("/health")
        .unwrap()
}

#[tokio::test]
async fn each_request_outcome_is_counted_in_the_snapshot_and_in_prometheus() {
    let h = Harness::new();
    let layer = h.layer().sampling(sampling()).build().unwrap();
    let (addr, stop, _) = serve(app(layer, &Pause::default())).await;
    for (path, id) in [
        ("/payments", &b"kept-1"[..]),
        ("/ok", b"unkept-1"),
        ("/ok", b"unkept-2"),
        ("/health", b"excluded-1"),
        ("/chatty", b"promoted-1"),
        ("/panic", b"has space"),
    ] {
        http_get(addr, path, &[("x-request-id", id)]).await;
    }
    let _ = stop.send(());

    let expected = [
        ("fapilog_requests_total", 6),
        ("fapilog_requests_kept_total", 3),
        ("fapilog_requests_unkept_total", 3),
        ("fapilog_requests_promoted_total", 2),
        ("fapilog_requests_excluded_total", 1),
        ("fapilog_correlation_ids_replaced_total", 1),
        ("fapilog_handler_panics_total", 1),
        ("fapilog_request_buffer_overwritten_total", 0),
        ("fapilog_request_budget_exhausted_total", 0),
    ];
    let text = h.pipeline.metrics().to_prometheus();
    for (name, value) in expected {
        assert_eq!(h.counter(name), value, "{name}");
        assert!(
            text.contains(&format!("\n{name} {value}\n")),
            "{name} in:\n{text}"
        );
    }
    // The core's counters are in the same text: the events of the two unkept
    // requests and of the excluded one, two each.
    assert!(
        text.contains("fapilog_events_dropped_total{reason=\"sampling\"} 6\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_full_request_buffer_overwrites_its_oldest_and_counts_them() {
    let h = Harness::new();
    let layer = h
        .layer()
        .sampling(sampling())
        .request_buffer(4)
        .build()
        .unwrap();
    let (addr, stop, _) = serve(app(layer, &Pause::default())).await;
    http_get(addr, "/chatty", &[("x-request-id", b"full-1")]).await;
    let _ = stop.send(());
    assert_eq!(h.numbers_for("full-1"), [6, 7, 8, 9]);
    assert_eq!(h.counter("fapilog_request_buffer_overwritten_total"), 6);
    assert_eq!(h.counter("fapilog_request_budget_exhausted_total"), 0);
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 6);
    assert!(m.is_balanced());
}

#[tokio::test]
async fn the_global_budget_caps_what_requests_hold_together() {
    let h = Harness::new();
    let pause = Pause::default();
    let layer = h
        .layer()
        .sampling(sampling())
        .request_buffer(3)
        .global_buffer(3)
        .build()
        .unwrap();
    let (addr, stop, _) = serve(app(layer, &pause)).await;
    // The first request holds three events, the whole budget, and waits.
    let first =
        tokio::spawn(async move { http_get(addr, "/hold", &[("x-request-id", b"holder")]).await });
    within("the first request to hold", pause.holding.notified()).await;
    // The second finds no budget left: its ten events are discarded and counted.
    http_get(addr, "/chatty", &[("x-request-id", b"starved")]).await;
    assert_eq!(h.counter("fapilog_request_budget_exhausted_total"), 10);
    pause.release.notify_one();
    assert_eq!(first.await.unwrap().status, 500);
    let _ = stop.send(());
    assert_eq!(h.numbers_for("holder"), [0, 1, 2]);
    assert!(h.numbers_for("starved").is_empty());
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 10);
    assert!(m.is_balanced());
}

#[tokio::test]
async fn an_access_log_turned_off_by_a_directive_is_not_counted_as_sampled_out() {
    let h = Harness::new();
    let directives = fapilog::LevelDirectives::parse("info,fapilog_axum::access=off").unwrap();
    h.pipeline.set_directives(directives);
    let layer = h.layer().sampling(sampling()).build().unwrap();
    let (addr, stop, _) = serve(app(layer, &Pause::default())).await;
    for (path, id) in [("/ok", &b"unkept-1"[..]), ("/payments", b"kept-1")] {
        http_get(addr, path, &[("x-request-id", id)]).await;
    }
    let _ = stop.send(());
    let events = h.events();
    assert_eq!(
        json_messages(&events),
        ["handling"],
        "only the kept request's own event"
    );
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 1, "the unkept request's own event only");
    assert!(m.is_balanced());
}
