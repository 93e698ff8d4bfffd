//! The access log's switches, end to end against a real server: off, client
//! IP and user agent opt-in, the header allowlist, body sizes; and where the
//! correlation ID comes from: the configured header, or a W3C `traceparent`.

mod support;

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use fapilog::{info, Logger};
use fapilog_axum::{AccessLogConfig, CorrelationConfig, FapilogLayer};
use support::harness::{json_messages, Harness};
use support::server::{get as http_get, send, serve};
use tokio::net::TcpListener;

async fn order(log: Logger) -> &'static str {
    info!(log, "fetching order");
    "order 7"
}

async fn echo(body: String) -> String {
    body
}

fn app(layer: FapilogLayer) -> Router {
    Router::new()
        .route("/orders/{id}", get(order))
        .route("/echo", post(echo))
        .layer(layer)
}

/// Serves `app` with the peer address available to the access log.
async fn serve_with_peer(app: Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop)
}

fn access_event(h: &Harness, id: &str) -> serde_json::Value {
    h.for_id(id)
        .into_iter()
        .find(|e| e["target"] == "fapilog_axum::access")
        .unwrap_or_else(|| panic!("no access event for {id}"))
}

#[tokio::test]
async fn turned_off_there_is_no_access_event_but_handler_events_stay() {
    let h = Harness::new();
    let access = AccessLogConfig::new().enabled(false);
    let (addr, stop, _) = serve(app(h.layer().access_log(access).build().unwrap())).await;
    let res = http_get(addr, "/orders/7", &[("x-request-id", b"off-1")]).await;
    assert_eq!(res.header("x-request-id"), Some("off-1"));
    assert_eq!(json_messages(&h.for_id("off-1")), ["fetching order"]);
    let _ = stop.send(());
}

#[tokio::test]
async fn client_ip_and_user_agent_only_when_opted_in() {
    let h = Harness::new();
    let plain = app(h.layer().build().unwrap());
    let opted = app(h
        .layer()
        .access_log(AccessLogConfig::new().client_ip(true).user_agent(true))
        .build()
        .unwrap());
    let (plain_addr, stop_plain) = serve_with_peer(plain).await;
    let (opted_addr, stop_opted) = serve_with_peer(opted).await;
    for (addr, id) in [(plain_addr, &b"plain-1"[..]), (opted_addr, b"opted-1")] {
        http_get(
            addr,
            "/orders/7",
            &[("user-agent", b"probe/1.0"), ("x-request-id", id)],
        )
        .await;
    }
    let plain = access_event(&h, "plain-1");
    assert!(plain.get("client_ip").is_none() && plain.get("user_agent").is_none());
    let opted = access_event(&h, "opted-1");
    assert_eq!(opted["client_ip"], "127.0.0.1");
    assert_eq!(opted["user_agent"], "probe/1.0");
    let _ = (stop_plain.send(()), stop_opted.send(()));
}

#[tokio::test]
async fn only_allowlisted_headers_are_logged_and_secrets_always_redacted() {
    let h = Harness::new();
    let access = AccessLogConfig::new()
        .header("x-tenant")
        .unwrap()
        .header("cookie")
        .unwrap()
        .header("x-api-key")
        .unwrap();
    let (addr, stop, _) = serve(app(h.layer().access_log(access).build().unwrap())).await;
    http_get(
        addr,
        "/orders/7",
        &[
            ("x-request-id", b"allow-1"),
            ("x-tenant", b"acme"),
            ("x-region", b"eu-west"),
            ("cookie", b"session=abc"),
            ("x-api-key", b"k-123"),
        ],
    )
    .await;
    let event = access_event(&h, "allow-1");
    assert_eq!(event["header.x-tenant"], "acme");
    assert_eq!(event["header.cookie"], "[REDACTED]");
    assert_eq!(event["header.x-api-key"], "[REDACTED]");
    assert!(event.get("header.x-region").is_none(), "{event}");
    let text = h.sink.text();
    assert!(!text.contains("eu-west") && !text.contains("session=abc") && !text.contains("k-123"));
    let _ = stop.send(());
}

#[tokio::test]
async fn request_and_response_body_sizes_are_logged() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(h.layer().build().unwrap())).await;
    let body = b"twelve bytes";
    let res = send(
        addr,
        "POST",
        "/echo",
        &[("x-request-id", b"size-1")],
        Some(body),
    )
    .await;
    assert_eq!(res.body, body);
    let event = access_event(&h, "size-1");
    assert_eq!(event["method"], "POST");
    assert_eq!(event["request_bytes"], 12);
    assert_eq!(event["response_bytes"], 12);
    http_get(addr, "/orders/7", &[("x-request-id", b"size-2")]).await;
    let event = access_event(&h, "size-2");
    assert!(event.get("request_bytes").is_none(), "{event}");
    assert_eq!(event["response_bytes"], "order 7".len());
    let _ = stop.send(());
}

#[tokio::test]
async fn the_configured_correlation_header_is_read_and_echoed() {
    let h = Harness::new();
    let correlation = CorrelationConfig::new().header("x-correlation-id").unwrap();
    let layer = h.layer().correlation(correlation).build().unwrap();
    let (addr, stop, _) = serve(app(layer)).await;
    let res = http_get(
        addr,
        "/orders/7",
        &[
            ("x-correlation-id", b"corr-1"),
            ("x-request-id", b"ignored-1"),
        ],
    )
    .await;
    assert_eq!(res.header("x-correlation-id"), Some("corr-1"));
    assert_eq!(res.header("x-request-id"), None);
    assert_eq!(
        json_messages(&h.for_id("corr-1")),
        ["fetching order", "request completed"]
    );
    assert!(h.for_id("ignored-1").is_empty());
    let _ = stop.send(());
}

#[tokio::test]
async fn a_traceparent_trace_id_becomes_the_id_when_enabled() {
    let h = Harness::new();
    let correlation = CorrelationConfig::new().use_traceparent(true);
    let layer = h.layer().correlation(correlation).build().unwrap();
    let (addr, stop, _) = serve(app(layer)).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let res = http_get(
        addr,
        "/orders/7",
        &[("traceparent", traceparent.as_bytes())],
    )
    .await;
    assert_eq!(res.header("x-request-id"), Some(trace_id));
    assert_eq!(h.for_id(trace_id).len(), 2);
    // The configured header still comes first; a malformed traceparent is ignored.
    let res = http_get(
        addr,
        "/orders/7",
        &[
            ("x-request-id", b"own-1"),
            ("traceparent", traceparent.as_bytes()),
        ],
    )
    .await;
    assert_eq!(res.header("x-request-id"), Some("own-1"));
    let res = http_get(addr, "/orders/7", &[("traceparent", b"00-zz-00-01")]).await;
    let generated = res.header("x-request-id").unwrap();
    assert_eq!(generated.len(), 36, "{generated}");
    let _ = stop.send(());
}
