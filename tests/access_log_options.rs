//! The access log's switches, end to end against a real server: off, client
//! IP and user agent opt-in, the header allowlist, body sizes (declared,
//! chunked, streamed, cut off); and where the correlation ID comes from: the
//! configured header, or a W3C `traceparent`.

mod support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use fapilog::{info, Logger};
use fapilog_axum::{AccessLogConfig, CorrelationConfig, FapilogLayer, SamplingConfig};
use http_body::{Body as HttpBody, Frame};
use support::harness::{json_messages, Harness};
use support::server::{get as http_get, send, send_raw, serve, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

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
async fn an_allowlisted_correlation_header_is_logged_only_when_valid() {
    let h = Harness::new();
    let access = AccessLogConfig::new().header("x-request-id").unwrap();
    let (addr, stop, _) = serve(app(h.layer().access_log(access).build().unwrap())).await;
    http_get(addr, "/orders/7", &[("x-request-id", b"valid-1")]).await;
    assert_eq!(
        access_event(&h, "valid-1")["header.x-request-id"],
        "valid-1"
    );
    let res = http_get(addr, "/orders/7", &[("x-request-id", b"forged value")]).await;
    let generated = res.header("x-request-id").unwrap().to_owned();
    let event = access_event(&h, &generated);
    assert!(event.get("header.x-request-id").is_none(), "{event}");
    assert!(!h.sink.text().contains("forged"));
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
    assert!(event.get("request_bytes").is_none(), "no body: {event}");
    assert_eq!(event["response_bytes"], "order 7".len());
    assert!(event.get("response_incomplete").is_none(), "{event}");
    send(
        addr,
        "POST",
        "/echo",
        &[("x-request-id", b"size-3")],
        Some(b""),
    )
    .await;
    let event = access_event(&h, "size-3");
    assert_eq!(
        event["request_bytes"], 0,
        "declared content-length: 0: {event}"
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn a_chunked_request_body_counts_the_bytes_read() {
    let h = Harness::new();
    let (addr, stop, _) = serve(app(h.layer().build().unwrap())).await;
    let request = b"POST /echo HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\
        x-request-id: chunked-1\r\ntransfer-encoding: chunked\r\n\r\n\
        6\r\nhello \r\nd\r\nchunked world\r\n0\r\n\r\n";
    let res = send_raw(addr, request).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"hello chunked world");
    let event = access_event(&h, "chunked-1");
    assert_eq!(event["request_bytes"], 19);
    assert_eq!(event["response_bytes"], 19);
    let _ = stop.send(());
}

/// A response body of unknown size: the given chunks, or what a channel sends.
enum Streamed {
    Chunks(VecDeque<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
}

impl HttpBody for Streamed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = match &mut *self {
            Streamed::Chunks(chunks) => Poll::Ready(chunks.pop_front()),
            Streamed::Channel(rx) => rx.poll_recv(cx),
        };
        next.map(|chunk| chunk.map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        // The chunks say so with their last one, so the server stops polling
        // without asking for the end; a channel cannot know.
        matches!(self, Streamed::Chunks(chunks) if chunks.is_empty())
    }
}

fn streaming_app(layer: FapilogLayer, channel: mpsc::Receiver<Bytes>) -> Router {
    let channel = Arc::new(Mutex::new(Some(channel)));
    let chunks = || {
        let chunks = [&b"first,"[..], b"second,", b"third"].map(Bytes::from_static);
        Body::new(Streamed::Chunks(chunks.into()))
    };
    let forever = move || {
        let rx = channel.lock().unwrap().take().expect("one request");
        async move { Body::new(Streamed::Channel(rx)) }
    };
    Router::new()
        .route("/stream", get(move || async move { chunks() }))
        .route(
            "/stream-fails",
            get(move || async move { (StatusCode::BAD_GATEWAY, chunks()) }),
        )
        .route("/forever", get(forever))
        .layer(layer)
}

/// `TestApp` returns before the body is read: a streamed response's access
/// event comes once the test reads it, as over a real connection.
#[tokio::test]
async fn through_the_test_fixture_a_streamed_response_is_logged_once_read() {
    let chunks = || {
        let chunks = [&b"a,"[..], b"b"].map(Bytes::from_static);
        Body::new(Streamed::Chunks(chunks.into()))
    };
    let router = Router::new().route("/stream", get(move || async move { chunks() }));
    let app = fapilog_testing::TestApp::new(router).unwrap();
    let res = app.get_with_id("/stream", "fixture-1").await.unwrap();
    assert!(app
        .flush()
        .unwrap()
        .by_correlation_id("fixture-1")
        .is_empty());
    assert_eq!(res.text().await.unwrap(), "a,b");
    let events = app.flush().unwrap().by_correlation_id("fixture-1");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message, "request completed");
    assert_eq!(
        events[0].field("response_bytes"),
        Some(&serde_json::json!(3))
    );
}

#[tokio::test]
async fn a_streamed_response_is_logged_when_it_ends_with_the_bytes_sent() {
    let h = Harness::new();
    let (_tx, rx) = mpsc::channel(1);
    let (addr, stop, _) = serve(streaming_app(h.layer().build().unwrap(), rx)).await;
    let res = http_get(addr, "/stream", &[("x-request-id", b"stream-1")]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-request-id"), Some("stream-1"));
    assert_eq!(res.header("x-log-sampled"), Some("true"));
    let event = access_event(&h, "stream-1");
    assert_eq!(event["response_bytes"], "first,second,third".len());
    assert!(event.get("response_incomplete").is_none(), "{event}");
    // HEAD: the server drops the body unread, and the request is complete.
    let head = send(
        addr,
        "HEAD",
        "/stream",
        &[("x-request-id", b"head-1")],
        None,
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let event = access_event(&h, "head-1");
    assert_eq!(event["method"], "HEAD");
    assert_eq!(event["response_bytes"], 0, "{event}");
    assert!(event.get("response_incomplete").is_none(), "{event}");
    let _ = stop.send(());
}

#[tokio::test]
async fn responses_that_carry_no_body_log_zero_bytes() {
    let h = Harness::new();
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/no-content",
            get(|| async { (StatusCode::NO_CONTENT, "ignored") }),
        )
        .route(
            "/not-modified",
            get(|| async { (StatusCode::NOT_MODIFIED, "ignored") }),
        )
        .layer(h.layer().build().unwrap());
    let (addr, stop, _) = serve(app).await;
    let head = send(addr, "HEAD", "/hello", &[("x-request-id", b"head-2")], None).await;
    assert!(head.body.is_empty());
    for (path, id) in [("/no-content", "nc-1"), ("/not-modified", "nm-1")] {
        let res = http_get(addr, path, &[("x-request-id", id.as_bytes())]).await;
        assert!(res.body.is_empty(), "{path}");
    }
    let get = http_get(addr, "/hello", &[("x-request-id", b"get-1")]).await;
    assert_eq!(get.body, b"hello");
    let _ = stop.send(());
    for (id, status, bytes) in [
        ("head-2", 200, 0),
        ("nc-1", 204, 0),
        ("nm-1", 304, 0),
        ("get-1", 200, 5),
    ] {
        let event = access_event(&h, id);
        assert_eq!(
            (&event["status"], &event["response_bytes"]),
            (&status.into(), &bytes.into()),
            "{event}"
        );
    }
}

#[tokio::test]
async fn a_streamed_response_follows_the_requests_sampling_decision() {
    let h = Harness::new();
    let layer = h
        .layer()
        .sampling(SamplingConfig::new().rate(0.0).unwrap())
        .build()
        .unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (addr, stop, _) = serve(streaming_app(layer, rx)).await;
    let unkept = http_get(addr, "/stream", &[("x-request-id", b"unkept-1")]).await;
    assert_eq!(unkept.header("x-log-sampled"), Some("false"));
    let failed = http_get(addr, "/stream-fails", &[("x-request-id", b"failed-1")]).await;
    assert_eq!(failed.status, 502);
    assert_eq!(failed.header("x-log-sampled"), Some("true"));
    let event = access_event(&h, "failed-1");
    assert_eq!(event["promoted"], true);
    assert_eq!(event["response_bytes"], "first,second,third".len());
    // The unkept request's access event is not built (sampling would
    // discard it), but it is counted.
    assert!(h.for_id("unkept-1").is_empty());
    assert_eq!(h.pipeline.metrics().dropped.sampling, 1);
    let _ = stop.send(());
}

#[tokio::test]
async fn a_response_stream_the_client_cut_off_is_logged_incomplete() {
    let h = Harness::new();
    let (tx, rx) = mpsc::channel(1);
    let (addr, stop, _) = serve(streaming_app(h.layer().build().unwrap(), rx)).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /forever HTTP/1.1\r\nhost: test\r\nx-request-id: cut-1\r\n\r\n")
        .await
        .unwrap();
    tx.send(Bytes::from_static(b"0123456789")).await.unwrap();
    let mut seen = Vec::new();
    while !seen.windows(10).any(|w| w == b"0123456789") {
        let mut buf = [0; 1024];
        let n = within("the first chunk", client.read(&mut buf))
            .await
            .unwrap();
        assert!(n > 0, "the server closed before the first chunk");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(client);
    // The server notices on a later write; the channel closes once it has
    // dropped the body (and, with it, written the access event).
    let mut cut = false;
    for _ in 0..500 {
        let sent = tokio::time::timeout(
            Duration::from_millis(10),
            tx.send(Bytes::from_static(b"more")),
        );
        if matches!(sent.await, Ok(Err(_))) {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(cut, "the server kept streaming to a closed connection");
    let event = access_event(&h, "cut-1");
    assert_eq!(event["response_incomplete"], true);
    assert!(event["response_bytes"].as_u64().unwrap() >= 10, "{event}");
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
    // Sent twice, it is invalid (W3C Trace Context): a new ID, not either one.
    let other = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let res = http_get(
        addr,
        "/orders/7",
        &[
            ("traceparent", traceparent.as_bytes()),
            ("traceparent", &other[..]),
        ],
    )
    .await;
    let generated = res.header("x-request-id").unwrap();
    assert_eq!(generated.len(), 36, "{generated}");
    let _ = stop.send(());
}

#[tokio::test]
async fn a_directive_for_the_access_target_is_followed_when_the_default_is_stricter() {
    let h = Harness::new();
    let directives = fapilog::LevelDirectives::parse("warn,fapilog_axum::access=info").unwrap();
    h.pipeline.set_directives(directives);
    let sampling = SamplingConfig::new()
        .rate(0.0)
        .unwrap()
        .always_path("/orders/*")
        .unwrap();
    let layer = h.layer().sampling(sampling).build().unwrap();
    let (addr, stop, _) = serve(app(layer)).await;
    http_get(addr, "/orders/7", &[("x-request-id", b"kept-1")]).await;
    send(
        addr,
        "POST",
        "/echo",
        &[("x-request-id", b"unkept-1")],
        Some(b"hi"),
    )
    .await;
    let _ = stop.send(());
    // The handler's INFO event is below the default level; the access
    // event's own target lets INFO through.
    assert_eq!(json_messages(&h.for_id("kept-1")), ["request completed"]);
    // The unkept request's access event is not built, but counted.
    assert!(h.for_id("unkept-1").is_empty());
    let m = h.pipeline.metrics();
    assert_eq!(m.dropped.sampling, 1);
    assert!(m.is_balanced());
}
