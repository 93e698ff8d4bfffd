//! The fapilog demo: an Axum app with `FapilogLayer`, driven by a mix of
//! requests against itself, then a summary and the drain report.
//!
//! ```text
//! cargo run --release --example demo                           # drive itself, print logs and a summary
//! cargo run --release --example demo -- --serve 127.0.0.1:3000 # serve until Ctrl-C / SIGTERM, then drain
//! ```
//!
//! Logs are JSON lines on stdout (the default pipeline); in serve mode the
//! banner and drain report go to stderr so stdout can be piped.
#![allow(missing_docs)]

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fapilog::{error, info, warn, Logger};
use fapilog_axum::{current_logger, AccessLogConfig, FapilogLayer, SamplingConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

async fn index(log: Logger) -> &'static str {
    info!(log, "rendering index");
    "fapilog demo\n"
}

fn load_order(id: u64) {
    if let Some(log) = current_logger() {
        info!(
            log,
            "order loaded from the database",
            order_id = id,
            rows = 1
        );
    }
}

async fn order(log: Logger, axum::extract::Path(id): axum::extract::Path<u64>) -> String {
    info!(log, "fetching order", order_id = id);
    load_order(id);
    format!("order {id}\n")
}

async fn payment(log: Logger) -> &'static str {
    info!(
        log,
        "charging card",
        amount_cents = 1999u64,
        currency = "EUR"
    );
    "paid\n"
}

async fn failing(log: Logger) -> StatusCode {
    info!(log, "calling the inventory service");
    warn!(log, "inventory service slow", latency_ms = 2300u64);
    StatusCode::BAD_GATEWAY
}

async fn error_event(log: Logger) -> &'static str {
    let err = std::io::Error::other("connection reset by peer");
    error!(log, "cache write failed", error = &err, key = "user:42");
    "served without cache\n"
}

async fn panicking(log: Logger) -> &'static str {
    info!(log, "about to divide by zero");
    panic!("division by zero in the pricing engine");
}

fn app() -> Result<Router, Box<dyn Error>> {
    let layer = FapilogLayer::builder()
        .sampling(
            SamplingConfig::new()
                .rate(0.5)?
                .always_path("/api/v1/payments")?
                .never_path("/health")?,
        )
        .access_log(AccessLogConfig::new().user_agent(true))
        .build()?;
    Ok(Router::new()
        .route("/", get(index))
        .route("/orders/{id}", get(order))
        .route("/api/v1/payments", get(payment))
        .route("/health", get(|| async { "ok\n" }))
        .route("/inventory", get(failing))
        .route("/cache", get(error_event))
        .route("/pricing", get(panicking))
        .layer(layer))
}

/// Sends one raw HTTP/1.1 GET (so hostile header bytes go out as they are); returns the status.
async fn send(addr: SocketAddr, path: &str, request_id: Option<&[u8]>) -> std::io::Result<u16> {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nhost: demo\r\nuser-agent: fapilog-demo\r\nconnection: close\r\n"
    )
    .into_bytes();
    if let Some(id) = request_id {
        req.extend_from_slice(b"x-request-id: ");
        req.extend_from_slice(id);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&req).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let status = response
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok());
    Ok(status.unwrap_or(0))
}

async fn drive(addr: SocketAddr) -> std::io::Result<Vec<u16>> {
    let long = vec![b'x'; 200];
    let hostile: [&[u8]; 4] = [b"\x1b[2J", b"\x80\xff", b"has space", &long];
    let mut statuses = Vec::new();
    for n in 0..12u64 {
        statuses.push(send(addr, &format!("/orders/{n}"), None).await?);
    }
    for path in [
        "/",
        "/health",
        "/health",
        "/api/v1/payments",
        "/api/v1/payments",
        "/missing",
    ] {
        statuses.push(send(addr, path, None).await?);
    }
    // IDs whose sampling bucket is above 5,000 (docs/sampling.md): unsampled
    // at rate 0.5, so each of these failures shows error promotion.
    for (path, id) in [
        ("/inventory", "demo-inventory-1"),
        ("/cache", "demo-cache-1"),
        ("/pricing", "demo-pricing-3"),
    ] {
        statuses.push(send(addr, path, Some(id.as_bytes())).await?);
    }
    statuses.push(send(addr, "/orders/7", Some(b"4bf92f3577b34da6a3ce929d0e0e4736")).await?);
    statuses.push(send(addr, "/orders/8", Some(b"upstream-req-81")).await?);
    for id in hostile {
        statuses.push(send(addr, "/", Some(id)).await?);
    }
    Ok(statuses)
}

pub(crate) async fn run_demo() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = app()?;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let statuses = drive(addr).await?;
    let _ = stop.send(());
    server.await??;
    let report = fapilog_axum::shutdown(DRAIN_DEADLINE)
        .await
        .ok_or("the default pipeline was not running")?;
    let m = &report.metrics;
    let counter = |name: &str| {
        m.extra
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.value)
    };
    let (ok, client, server_err) = statuses.iter().fold((0, 0, 0), |(a, b, c), s| match s {
        200..=399 => (a + 1, b, c),
        400..=499 => (a, b + 1, c),
        _ => (a, b, c + 1),
    });
    println!();
    println!("== summary");
    println!(
        "requests sent       {} ({ok} ok, {client} 4xx, {server_err} 5xx)",
        statuses.len()
    );
    let handled = counter("fapilog_requests_total");
    println!(
        "requests handled    {handled} (kept {}, unkept {}, promoted {}, excluded {})",
        counter("fapilog_requests_kept_total"),
        counter("fapilog_requests_unkept_total"),
        counter("fapilog_requests_promoted_total"),
        counter("fapilog_requests_excluded_total"),
    );
    let unseen = (statuses.len() as u64).saturating_sub(handled);
    if unseen > 0 {
        // hyper answers a header value with a control byte (the ESC id) itself.
        println!("                    {unseen} answered 400 by hyper before the app (a header value with a control byte)");
    }
    println!(
        "hostile ids replaced {}, handler panics caught {}",
        counter("fapilog_correlation_ids_replaced_total"),
        counter("fapilog_handler_panics_total")
    );
    println!(
        "events              submitted {} = written {} + dropped {} (sampling {}) + failed {}  balanced: {}",
        m.submitted, m.written, m.dropped.total(), m.dropped.sampling, m.failed, m.is_balanced()
    );
    println!("drain               {report}");
    Ok(())
}

async fn terminated() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub(crate) async fn run_server(addr: &str) -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!(
        "fapilog demo serving on http://{} (Ctrl-C or SIGTERM to stop)",
        listener.local_addr()?
    );
    eprintln!(
        "try: curl -i http://{}/orders/7 -H 'x-request-id: my-req-2' \
         (rate 0.5: this ID is kept; x-log-sampled says whether a request's lines are written)",
        listener.local_addr()?
    );
    axum::serve(listener, app()?)
        .with_graceful_shutdown(terminated())
        .await?;
    match fapilog_axum::shutdown(DRAIN_DEADLINE).await {
        Some(report) => eprintln!("fapilog: {report}"),
        None => eprintln!("fapilog: nothing to drain"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => run_demo().await,
        [flag, addr] if flag == "--serve" => run_server(addr).await,
        _ => Err("usage: demo [--serve ADDR]".into()),
    }
}
