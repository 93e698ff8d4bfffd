//! The Axum layer end to end, against a real server on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Router};
use fapilog::{error, info, Logger};
use fapilog_axum::{current_logger, with_logger, AccessLogConfig, FapilogLayer, SamplingConfig};
use http::StatusCode;
use serde_json::Value as Json;
use support::harness::{json_messages, Harness};
use support::server::{get as http_get, serve};
use tokio::sync::Notify;

fn helper_deep_in_the_stack() {
    if let Some(log) = current_logger() {
        info!(log, "from the helper");
    }
}

async fn ok(log: Logger) -> &'static str {
    info!(log, "handling");
    helper_deep_in_the_stack();
    "ok"
}

async fn fail(Extension(log): Extension<Logger>) -> (StatusCode, &'static str) {
    info!(log, "step one");
    info!(log, "step two");
    (StatusCode::SERVICE_UNAVAILABLE, "down")
}

async fn error_event(log: Logger) -> &'static str {
    info!(log, "before");
    let err = std::io::Error::other("db timeout");
    error!(log, "query failed", error = &err);
    info!(log, "after");
    "handled"
}

async fn boom(log: Logger) -> &'static str {
    info!(log, "about to panic");
    panic!("kaboom");
}

/// Hands work to two spawned tasks: one carries the request's logger, one does not.
async fn spawns(log: Logger) -> String {
    let carried = tokio::spawn(with_logger(log, async { helper_deep_in_the_stack() }));
    let bare = tokio::spawn(async { current_logger().is_some() });
    carried.await.unwrap();
    format!("bare task sees a logger: {}", bare.await.unwrap())
}

/// Tells a task when to log, and hears when it has.
#[derive(Clone, Default)]
struct Late {
    go: Arc<Notify>,
    done: Arc<Notify>,
}

/// Answers at once; a task carrying the request's logger logs once told to.
async fn late_error(log: Logger, Extension(late): Extension<Late>) -> &'static str {
    info!(log, "accepted");
    tokio::spawn(with_logger(log, async move {
        late.go.notified().await;
        if let Some(log) = current_logger() {
            info!(log, "background detail");
            error!(log, "background job failed");
        }
        late.done.notify_one();
    }));
    "accepted"
}

async fn chatty(log: Logger) -> StatusCode {
    for n in 0..10u64 {
        info!(log, "chatter", n);
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

/// Logs through a logger derived from the request's.
async fn bound(log: Logger) -> &'static str {
    let log = log.bind("order_id", 7u64);
    info!(log, "bound");
    "bound"
}

fn app(layer: FapilogLayer) -> Router {
    Router::new()
        .route("/ok", get(ok))
        .route("/bound", get(bound))
        .route("/orders/{id}", get(ok))
        .route("/fail", get(fail))
        .route("/error-event", get(error_event))
        .route("/panic", get(boom))
        .route("/chatty", get(chatty))
        .route("/spawn", get(spawns))
        .route("/health", get(ok))
        .route("/api/v1/payments", get(ok))
        .layer(layer)
}

/// The layer most tests use: the capture harness's pipeline, `sampling`, an
/// access log with two allowlisted headers, and a 4-event request buffer.
fn layer(h: &Harness, sampling: SamplingConfig) -> FapilogLayer {
    h.layer()
        .sampling(sampling)
        .access_log(
            AccessLogConfig::new()
                .header("authorization")
                .unwrap()
                .header("x-tenant")
                .unwrap(),
        )
        .request_buffer(4)
        .build()
        .unwrap()
}

fn never_sampled() -> SamplingConfig {
    SamplingConfig::new().rate(0.0).unwrap()
}

#[tokio::test]
async fn valid_ids_are_used_and_echoed_and_missing_ones_generated() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, SamplingConfig::new()))).await;

    let res = http_get(addr, "/ok", &[("x-request-id", b"req-123.abc:XYZ")]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-request-id"), Some("req-123.abc:XYZ"));
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let events = h.for_id("req-123.abc:XYZ");
    assert_eq!(
        json_messages(&events),
        ["handling", "from the helper", "request completed"]
    );
    for e in &events {
        assert_eq!(
            (e["sampled"].as_bool(), e["sample_rate"].as_f64()),
            (Some(true), Some(1.0))
        );
    }

    let res = http_get(addr, "/ok", &[]).await;
    let id = res.header("x-request-id").unwrap().to_owned();
    let uuid = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(h.for_id(&id).len(), 3);
    let _ = stop.send(());
}

#[tokio::test]
async fn a_logger_derived_in_a_kept_request_keeps_its_sampling_tag() {
    let h = Harness::new();
    let sampling = SamplingConfig::new().rate(0.25).unwrap();
    let (addr, stop, _) = serve(app(layer(&h, sampling))).await;
    // This ID's bucket is 346 of 10,000 (`sampling.rs`' vectors): kept at 0.25.
    let res = http_get(addr, "/bound", &[("x-request-id", b"req-58")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let _ = stop.send(());
    let events = h.for_id("req-58");
    assert_eq!(json_messages(&events), ["bound", "request completed"]);
    for e in &events {
        let tag = (&e["sampled"], &e["sample_rate"], e.get("promoted"));
        assert_eq!(tag, (&Json::from(true), &Json::from(0.25), None), "{e}");
    }
    assert_eq!(events[0]["order_id"], 7);
}

#[tokio::test]
async fn a_spawned_task_logs_in_the_request_only_through_with_logger() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, SamplingConfig::new()))).await;
    let res = http_get(addr, "/spawn", &[("x-request-id", b"spawn-1")]).await;
    assert_eq!(res.body, b"bare task sees a logger: false");
    let events = h.for_id("spawn-1");
    assert_eq!(
        json_messages(&events),
        ["from the helper", "request completed"]
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn hostile_ids_are_replaced_never_echoed_and_counted() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, SamplingConfig::new()))).await;
    let long = vec![b'a'; 129];
    let hostile: Vec<&[u8]> = vec![
        b"\x1b[2J",
        b"\x07bell",
        b"\xc2\x9b",
        b"\x7f",
        b"\xe2\x80\xa8",
        b"\x80\x81\xfe\xff",
        b"has space",
        &long,
        b"",
    ];
    let mut answered = 0;
    for value in &hostile {
        let res = http_get(addr, "/ok", &[("x-request-id", value)]).await;
        if res.status == 200 {
            answered += 1;
            let echoed = res.headers["x-request-id"].clone();
            assert_ne!(&echoed[..], *value);
            assert!(uuid::Uuid::parse_str(std::str::from_utf8(&echoed).unwrap()).is_ok());
        } else {
            // hyper itself refuses some raw control bytes before the layer runs.
            assert_eq!(res.status, 400, "{value:?}");
            assert!(!res.headers.contains_key("x-request-id"));
        }
    }
    assert!(
        answered >= 5,
        "only {answered} hostile requests reached the layer"
    );
    let text = {
        assert!(h.pipeline.flush());
        h.sink.text()
    };
    for line in text.lines() {
        serde_json::from_str::<Json>(line).expect("every line is one JSON object");
    }
    for value in &hostile[..6] {
        let raw = String::from_utf8_lossy(value);
        assert!(
            !text.contains(raw.as_ref()),
            "raw value {raw:?} reached the log"
        );
    }
    let replaced = h
        .pipeline
        .metrics()
        .extra
        .iter()
        .find(|c| c.name == "fapilog_correlation_ids_replaced_total")
        .unwrap()
        .value;
    assert_eq!(replaced, answered);
    let _ = stop.send(());
}

#[tokio::test]
async fn unsampled_requests_are_discarded_and_counted() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    let res = http_get(addr, "/ok", &[("x-request-id", b"quiet-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("false"));
    assert!(h.for_id("quiet-1").is_empty());
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 3);
    assert!(m.is_balanced());
    let _ = stop.send(());
}

#[tokio::test]
async fn a_5xx_promotes_the_request_and_writes_its_buffer_in_order() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    let res = http_get(addr, "/fail", &[("x-request-id", b"fail-1")]).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let events = h.for_id("fail-1");
    assert_eq!(
        json_messages(&events),
        ["step one", "step two", "request completed"]
    );
    for e in &events {
        assert_eq!(
            (e["sampled"].as_bool(), e["promoted"].as_bool()),
            (Some(true), Some(true))
        );
    }
    assert_eq!(events[2]["level"], "ERROR");
    assert_eq!(events[2]["status"], 503);
    let _ = stop.send(());
}

/// Unkept requests on one thread reuse each other's buffers: no decision,
/// event or count carries over from one request to the next.
#[tokio::test]
async fn a_promotion_does_not_carry_over_to_the_next_unkept_request() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    // Written events per request: a promoted one's, then none.
    let steps: [(&str, &str, usize); 6] = [
        ("/fail", "seq-1", 3),
        ("/ok", "seq-2", 0),
        ("/error-event", "seq-3", 4),
        ("/ok", "seq-4", 0),
        ("/chatty", "seq-5", 5), // 10 events into a 4-event buffer, then the access event
        ("/ok", "seq-6", 0),
    ];
    for (path, id, _) in steps {
        let res = http_get(addr, path, &[("x-request-id", id.as_bytes())]).await;
        let promoted = res.header("x-log-sampled") == Some("true");
        assert_eq!(promoted, path != "/ok", "{path}");
    }
    for (_, id, written) in steps {
        assert_eq!(h.for_id(id).len(), written, "{id}");
    }
    assert!(h.pipeline.metrics().is_balanced());
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 3);
    assert_eq!(h.counter("fapilog_requests_unkept_total"), 3);
    let _ = stop.send(());
}

#[tokio::test]
async fn an_error_event_promotes_the_request() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    let res = http_get(addr, "/error-event", &[("x-request-id", b"err-1")]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let events = h.for_id("err-1");
    assert_eq!(
        json_messages(&events),
        ["before", "query failed", "after", "request completed"]
    );
    assert_eq!(events[1]["error"]["message"], "db timeout");
    let _ = stop.send(());
}

#[tokio::test]
async fn a_panic_is_logged_with_its_location_promoted_and_answered_500() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    let res = http_get(addr, "/panic", &[("x-request-id", b"panic-1")]).await;
    assert_eq!(res.status, 500);
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let events = h.for_id("panic-1");
    assert_eq!(
        json_messages(&events),
        ["about to panic", "handler panicked", "request completed"]
    );
    assert_eq!(events[1]["level"], "ERROR");
    assert_eq!(events[1]["panic.message"], "kaboom");
    assert!(events[1]["panic.location"]
        .as_str()
        .unwrap()
        .contains("request_layer.rs"));
    let _ = stop.send(());
}

#[tokio::test]
async fn an_error_logged_after_an_unkept_response_is_still_written() {
    let h = Harness::new();
    let late = Late::default();
    let router = Router::new()
        .route("/late", get(late_error))
        .layer(Extension(late.clone()))
        .layer(layer(&h, never_sampled()));
    let (addr, stop, _) = serve(router).await;
    let res = http_get(addr, "/late", &[("x-request-id", b"late-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("false"));
    late.go.notify_one();
    late.done.notified().await;
    // Priority writes the ERROR; the request's decision stands (not promoted).
    let events = h.for_id("late-1");
    assert_eq!(json_messages(&events), ["background job failed"]);
    assert_eq!(events[0]["level"], "ERROR");
    assert_eq!(events[0]["sampled"], false);
    assert!(events[0].get("promoted").is_none());
    let m = h.pipeline.metrics();
    // "accepted", the access event and "background detail".
    assert_eq!(m.dropped.sampling, 3);
    assert!(m.is_balanced());
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 0);
    let _ = stop.send(());
}

#[tokio::test]
async fn the_request_buffer_is_bounded_oldest_overwritten() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, never_sampled()))).await;
    http_get(addr, "/chatty", &[("x-request-id", b"chatty-1")]).await;
    assert_eq!(h.numbers_for("chatty-1"), [6, 7, 8, 9]);
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 6);
    assert!(m.is_balanced());
    let _ = stop.send(());
}

#[tokio::test]
async fn path_rules_override_the_rate() {
    let h = Harness::new();
    let sampling = SamplingConfig::new()
        .rate(0.0)
        .unwrap()
        .always_path("/api/v1/payments")
        .unwrap()
        .never_path("/health")
        .unwrap();
    let (addr, stop, _) = serve(app(layer(&h, sampling))).await;
    let res = http_get(addr, "/api/v1/payments", &[("x-request-id", b"pay-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    assert_eq!(h.for_id("pay-1").len(), 3);
    let res = http_get(addr, "/health", &[("x-request-id", b"health-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("false"));
    assert!(h.for_id("health-1").is_empty());
    assert_eq!(h.counter("fapilog_requests_excluded_total"), 1);
    let _ = stop.send(());
}

#[tokio::test]
async fn path_rules_match_the_route_template_else_the_path() {
    let h = Harness::new();
    let sampling = SamplingConfig::new()
        .rate(0.0)
        .unwrap()
        .always_path("/orders/{id}")
        .unwrap()
        .never_path("/nowhere/*")
        .unwrap();
    let (addr, stop, _) = serve(app(layer(&h, sampling))).await;
    // Matched by the template, not by the path "/orders/42".
    let res = http_get(addr, "/orders/42", &[("x-request-id", b"tmpl-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    assert_eq!(h.for_id("tmpl-1").len(), 3);
    // No route matches: the prefix rule sees the path.
    let res = http_get(addr, "/nowhere/7", &[("x-request-id", b"tmpl-2")]).await;
    assert_eq!(res.status, 404);
    assert_eq!(h.counter("fapilog_requests_excluded_total"), 1);
    // Neither rule: the rate (0) decides.
    http_get(addr, "/ok", &[("x-request-id", b"tmpl-3")]).await;
    assert_eq!(
        (
            h.counter("fapilog_requests_kept_total"),
            h.counter("fapilog_requests_unkept_total")
        ),
        (1, 2)
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn on_a_never_path_nothing_is_written_unless_the_request_fails() {
    let h = Harness::new();
    let sampling = SamplingConfig::new()
        .never_path("/ok")
        .unwrap()
        .never_path("/error-event")
        .unwrap()
        .never_path("/fail")
        .unwrap();
    let (addr, stop, _) = serve(app(layer(&h, sampling))).await;
    let res = http_get(addr, "/ok", &[("x-request-id", b"never-0")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("false"));
    // A failing request keeps all its logs, on a never-path too.
    let res = http_get(addr, "/error-event", &[("x-request-id", b"never-1")]).await;
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let res = http_get(addr, "/fail", &[("x-request-id", b"never-2")]).await;
    assert_eq!(res.status, 503);
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let _ = stop.send(());
    assert!(h.for_id("never-0").is_empty());
    let expected = [
        (
            "never-1",
            &["before", "query failed", "after", "request completed"][..],
        ),
        (
            "never-2",
            &["step one", "step two", "request completed"][..],
        ),
    ];
    for (id, messages) in expected {
        let events = h.for_id(id);
        assert_eq!(json_messages(&events), messages);
        for e in &events {
            assert_eq!(
                (&e["sampled"], &e["promoted"]),
                (&Json::from(true), &Json::from(true)),
                "{e}"
            );
        }
    }
    assert_eq!(h.counter("fapilog_requests_excluded_total"), 3);
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 2);
}

#[tokio::test]
async fn access_log_has_route_status_level_and_redacted_headers() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, SamplingConfig::new()))).await;
    http_get(
        addr,
        "/orders/42?token=secret-canary",
        &[
            ("x-request-id", b"acc-1"),
            ("authorization", b"Bearer canary-token"),
            ("x-tenant", b"acme"),
        ],
    )
    .await;
    http_get(addr, "/missing", &[("x-request-id", b"acc-2")]).await;
    let access = h.for_id("acc-1").pop().unwrap();
    assert_eq!(access["msg"], "request completed");
    assert_eq!(access["target"], "fapilog_axum::access");
    assert_eq!(
        (access["method"].as_str(), access["route"].as_str()),
        (Some("GET"), Some("/orders/{id}"))
    );
    assert_eq!(
        (access["path"].as_str(), access["status"].as_u64()),
        (Some("/orders/42"), Some(200))
    );
    assert_eq!(access["level"], "INFO");
    assert!(access["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(access["header.authorization"], "[REDACTED]");
    assert_eq!(access["header.x-tenant"], "acme");
    let text = h.sink.text();
    assert!(!text.contains("canary"), "a secret reached the log");
    let not_found = h.for_id("acc-2").pop().unwrap();
    assert_eq!(
        (not_found["status"].as_u64(), not_found["level"].as_str()),
        (Some(404), Some("WARN"))
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn two_apps_with_two_pipelines_never_see_each_other() {
    let (a, b) = (Harness::new(), Harness::new());
    let (addr_a, stop_a, _) = serve(app(layer(&a, SamplingConfig::new()))).await;
    let (addr_b, stop_b, _) = serve(app(layer(&b, never_sampled()))).await;
    http_get(addr_a, "/ok", &[("x-request-id", b"in-a")]).await;
    http_get(addr_b, "/fail", &[("x-request-id", b"in-b")]).await;
    assert!(a.for_id("in-b").is_empty() && b.for_id("in-a").is_empty());
    assert_eq!(a.for_id("in-a").len(), 3);
    assert_eq!(b.for_id("in-b").len(), 3);
    // Each app keeps its own settings: B (rate 0) promotes its 5xx, A keeps by its rate.
    assert!(a.for_id("in-a").iter().all(|e| e.get("promoted").is_none()));
    assert!(b.for_id("in-b").iter().all(|e| e["promoted"] == true));
    let count = |h: &Harness| h.counter("fapilog_requests_total");
    assert_eq!((count(&a), count(&b)), (1, 1));
    assert_eq!(
        (
            a.counter("fapilog_requests_promoted_total"),
            b.counter("fapilog_requests_promoted_total")
        ),
        (0, 1)
    );
    let _ = (stop_a.send(()), stop_b.send(()));
}

#[tokio::test]
async fn graceful_shutdown_under_load_loses_no_access_log() {
    let h = Harness::new();
    let (addr, stop, server) = serve(app(layer(&h, SamplingConfig::new()))).await;
    let clients: Vec<_> = (0..8)
        .map(|c| {
            tokio::spawn(async move {
                let mut ok = 0;
                for n in 0..25 {
                    let id = format!("load-{c}-{n}");
                    if http_get(addr, "/ok", &[("x-request-id", id.as_bytes())])
                        .await
                        .status
                        == 200
                    {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let mut answered = 0;
    for c in clients {
        answered += c.await.unwrap();
    }
    let _ = stop.send(());
    server.await.unwrap();
    let (pipeline, guard, sink) = h.into_parts();
    let report = fapilog_axum::drain(guard, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!report.timed_out);
    let access = sink
        .events()
        .into_iter()
        .filter(|e| e["msg"] == "request completed")
        .count();
    assert_eq!(access, answered);
    assert_eq!(report.written, pipeline.metrics().submitted);
}

#[tokio::test]
async fn an_inner_service_that_logs_in_call_reaches_the_request_logger() {
    use tower::{Layer, ServiceExt};

    let h = Harness::new();
    // A service whose `call` logs before it returns its future, as some
    // tower middleware does; axum's router defers `call` to the first poll,
    // so this needs the layer over a plain service.
    let inner = tower::service_fn(|_req: http::Request<axum::body::Body>| {
        if let Some(log) = current_logger() {
            info!(log, "logged in call");
        }
        async { Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty())) }
    });
    let service = layer(&h, SamplingConfig::new()).layer(inner);
    let res = service.oneshot(request("/sync", "sync-1")).await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "sync-1");
    let events = h.for_id("sync-1");
    assert_eq!(
        json_messages(&events),
        ["logged in call", "request completed"]
    );
}

/// Logs on drop, through whatever logger is current then.
struct LogOnDrop;

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        if let Some(log) = current_logger() {
            info!(log, "rolled back");
        }
    }
}

/// An inner future that panics when polled; its `LogOnDrop` is dropped later,
/// with the layer's response future, not by the unwinding.
struct PanicsWhenPolled(#[allow(dead_code)] LogOnDrop);

impl std::future::Future for PanicsWhenPolled {
    type Output = Result<http::Response<axum::body::Body>, std::convert::Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        panic!("inner future failed")
    }
}

/// A GET of `path` carrying correlation ID `id`, for `oneshot`.
fn request(path: &str, id: &str) -> http::Request<axum::body::Body> {
    http::Request::get(path)
        .header("x-request-id", id)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn what_a_panicked_inner_future_logs_when_dropped_keeps_the_request_id() {
    use tower::{Layer, ServiceExt};

    let h = Harness::new();
    let inner =
        tower::service_fn(|_req: http::Request<axum::body::Body>| PanicsWhenPolled(LogOnDrop));
    let service = layer(&h, SamplingConfig::new()).layer(inner);
    let res = service.oneshot(request("/drop", "drop-1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let events = h.for_id("drop-1");
    let messages = json_messages(&events);
    assert!(messages.contains(&"handler panicked"), "{messages:?}");
    assert!(messages.contains(&"rolled back"), "{messages:?}");
}

type Answer =
    std::future::Ready<Result<http::Response<axum::body::Body>, std::convert::Infallible>>;

/// An inner service whose `call` panics before it returns a future (axum
/// calls its handlers from the future, but any tower service may do this).
fn panics_in_call(_req: http::Request<axum::body::Body>) -> Answer {
    info!(current_logger().unwrap(), "calling");
    panic!("call failed")
}

#[tokio::test]
async fn a_panic_in_the_inner_services_call_is_caught_like_a_handlers() {
    use tower::{Layer, ServiceExt};

    let h = Harness::new();
    let service = layer(&h, never_sampled()).layer(tower::service_fn(panics_in_call));
    let res = service.oneshot(request("/call", "call-1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()["x-log-sampled"], "true");
    let events = h.for_id("call-1");
    assert_eq!(
        json_messages(&events),
        ["calling", "handler panicked", "request completed"]
    );
    assert_eq!(events[1]["panic.message"], "call failed");
    assert!(events[1]["panic.location"]
        .as_str()
        .unwrap()
        .contains("request_layer.rs"));
    assert_eq!(h.counter("fapilog_requests_total"), 1);
    assert_eq!(h.counter("fapilog_handler_panics_total"), 1);
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 1);
    assert!(h.pipeline.metrics().is_balanced());
}

#[tokio::test]
async fn the_access_event_is_stamped_after_the_handlers_events() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(layer(&h, SamplingConfig::new()))).await;
    let res = http_get(addr, "/orders/7", &[("x-request-id", b"ts-1")]).await;
    assert_eq!(res.status, 200);
    let _ = stop.send(());
    let events = h.for_id("ts-1");
    let access = events
        .iter()
        .find(|e| e["msg"] == "request completed")
        .unwrap();
    let handler = events
        .iter()
        .find(|e| e["msg"] != "request completed")
        .unwrap();
    let (a, b) = (
        access["ts"].as_str().unwrap(),
        handler["ts"].as_str().unwrap(),
    );
    // RFC 3339 with a fixed width: text order is time order.
    assert!(a >= b, "access {a} before handler {b}");
}

/// The layer without panic catching, never sampling.
fn not_catching(h: &Harness) -> FapilogLayer {
    h.layer()
        .sampling(never_sampled())
        .catch_panics(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_panic_in_the_inner_call_the_layer_does_not_catch_fails_the_request() {
    use tower::{Layer, Service, ServiceExt};

    let h = Harness::new();
    let mut service = not_catching(&h).layer(tower::service_fn(panics_in_call));
    let ready = service.ready().await.unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ready.call(request("/call", "uncaught-call-1"))
    }));
    assert!(panicked.is_err());
    let events = h.for_id("uncaught-call-1");
    assert_eq!(json_messages(&events), ["calling", "request failed"]);
    assert!(events.iter().all(|e| e["promoted"] == true), "{events:?}");
    assert_eq!(h.counter("fapilog_requests_total"), 1);
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 1);
    assert_eq!(h.counter("fapilog_requests_cancelled_total"), 0);
    assert!(h.pipeline.metrics().is_balanced());
}

#[tokio::test]
async fn a_panic_caught_outside_the_layer_still_fails_the_request() {
    use std::future::Future;
    use std::task::Poll;
    use tower::ServiceExt;

    let h = Harness::new();
    let mut answer = Box::pin(app(not_catching(&h)).oneshot(request("/panic", "outer-1")));
    // As tower-http's `CatchPanicLayer` does: the panic is caught around
    // `poll`, and the request's future is dropped later, after the unwind.
    let caught = std::future::poll_fn(|cx| {
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer.as_mut().poll(cx)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(_)) => Poll::Ready(false),
            Err(_) => Poll::Ready(true),
        }
    })
    .await;
    assert!(caught, "the handler panicked");
    drop(answer);
    let events = h.for_id("outer-1");
    assert_eq!(json_messages(&events), ["about to panic", "request failed"]);
    assert!(events.iter().all(|e| e["promoted"] == true), "{events:?}");
    assert_eq!(h.counter("fapilog_requests_promoted_total"), 1);
    assert_eq!(h.counter("fapilog_requests_cancelled_total"), 0);
    assert!(h.pipeline.metrics().is_balanced());
}

/// Catches a panic of its own, as a task runner does, then resumes another
/// panic (no hook runs for it, so no location is recorded).
async fn resumes(log: Logger) -> &'static str {
    info!(log, "resuming");
    let _ = std::panic::catch_unwind(|| panic!("caught elsewhere"));
    std::panic::resume_unwind(Box::new("resumed"))
}

#[tokio::test]
async fn a_resumed_panic_is_not_given_an_earlier_panics_location() {
    use tower::ServiceExt;

    let h = Harness::new();
    let app = Router::new()
        .route("/resumes", get(resumes))
        .layer(layer(&h, SamplingConfig::new()));
    let res = app.oneshot(request("/resumes", "resumed-1")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let events = h.for_id("resumed-1");
    let panicked = events
        .iter()
        .find(|e| e["msg"] == "handler panicked")
        .unwrap();
    assert_eq!(panicked["panic.message"], "resumed");
    assert!(panicked["panic.location"].is_null(), "{panicked}");
}

/// A streamed response body whose chunks are made, and logged through the
/// current logger, as the server polls it: after the handler has returned.
struct LoggedChunks(u64);

impl http_body::Body for LoggedChunks {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.0 == 0 {
            return std::task::Poll::Ready(None);
        }
        self.0 -= 1;
        if let Some(log) = current_logger() {
            info!(log, "chunk", left = self.0);
        }
        let data = axum::body::Bytes::from_static(b"chunk,");
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data))))
    }
}

#[tokio::test]
async fn a_streamed_body_logs_in_the_requests_scope() {
    for (access_log, rate, kept) in [(true, 1.0, true), (false, 1.0, true), (true, 0.0, false)] {
        let h = Harness::new();
        let layer = h
            .layer()
            .access_log(AccessLogConfig::new().enabled(access_log))
            .sampling(SamplingConfig::new().rate(rate).unwrap())
            .build()
            .unwrap();
        let stream = || async { axum::body::Body::new(LoggedChunks(3)) };
        // A stream that declares its size: the access event does not wait.
        let declared = || async {
            let body = axum::body::Body::new(LoggedChunks(3));
            ([(http::header::CONTENT_LENGTH, "18")], body)
        };
        let app = Router::new()
            .route("/stream", get(stream))
            .route("/declared", get(declared))
            .layer(layer);
        let (addr, stop, _) = serve(app).await;
        for path in ["/stream", "/declared"] {
            let res = http_get(addr, path, &[("x-request-id", b"stream-scope-1")]).await;
            assert_eq!(res.status, 200);
        }
        let _ = stop.send(());
        let case = format!("access log {access_log}, rate {rate}");
        let chunks = h
            .events()
            .into_iter()
            .filter(|e| e["msg"] == "chunk")
            .collect::<Vec<_>>();
        if kept {
            assert_eq!(chunks.len(), 6, "{case}");
            assert!(
                chunks
                    .iter()
                    .all(|e| e["correlation_id"] == "stream-scope-1"),
                "{case}"
            );
        } else {
            // Logged after the request's decision: discarded with it, counted.
            assert!(chunks.is_empty(), "{case}: {chunks:?}");
            assert!(h.pipeline.metrics().dropped.sampling >= 6, "{case}");
        }
        assert!(h.pipeline.metrics().is_balanced(), "{case}");
    }
}
