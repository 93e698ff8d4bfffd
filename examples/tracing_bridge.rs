//! The `tracing` and `log` bridges: events from code (and libraries) that log
//! through `tracing` or `log` land in fapilog, in the request's scope.
//!
//! ```text
//! cargo run --example tracing_bridge
//! ```
//!
//! Drives an Axum app in-process (`oneshot`, no network) at sample rate 0 with
//! `/orders/*` always kept, then prints the drain report. JSON log lines go to
//! stdout: each section's heading, its log lines, then the response. Look for:
//! - `tracing::info!`, `#[instrument]` span fields and `log::info!` inside a
//!   request carrying the request's `correlation_id`;
//! - an unsampled request that succeeds: none of its events are written;
//! - an unsampled request whose `tracing::error!` promotes it: all of its
//!   events, before and after, written in order with `promoted: true`;
//! - events outside any request going to the bridges' root logger.
#![allow(missing_docs)]

use std::error::Error;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::StdoutSink;
use fapilog::{info, Logger};
use fapilog_axum::{FapilogLayer, LogBridge, SamplingConfig, TracingBridge};
use http::Request;
use tower::ServiceExt;
use tracing_subscriber::layer::SubscriberExt;

/// A stand-in for a database library that logs through `tracing`.
mod db {
    #[tracing::instrument(level = "debug", fields(table = "orders"))]
    pub(crate) async fn load_order(order_id: u64) -> u64 {
        tracing::debug!(rows = 1u64, "row fetched");
        order_id * 100
    }
}

/// A stand-in for an older HTTP client that logs through `log`.
mod legacy_client {
    pub(crate) fn reserve_stock(sku: &str) {
        log::info!(target: "legacy_client", sku; "stock reserved");
    }
}

async fn order(log: Logger, Path(id): Path<u64>) -> String {
    info!(log, "fetching order", order_id = id);
    let cents = db::load_order(id).await;
    legacy_client::reserve_stock("A-7");
    tracing::info!(total_cents = cents, "order ready");
    format!("order {id}\n")
}

async fn browse() -> &'static str {
    tracing::info!(page = 1u64, "listing products");
    log::debug!("cache hit");
    "products\n"
}

async fn checkout() -> &'static str {
    tracing::info!(items = 3u64, "checkout started");
    let err = std::io::Error::other("card declined");
    tracing::error!(error = &err as &(dyn Error + 'static), "payment failed");
    tracing::info!("fell back to invoice");
    "invoice sent\n"
}

/// Sends one request; once its events are on stdout, prints the response line.
async fn send(
    app: &Router,
    pipeline: &Pipeline,
    path: &str,
    id: &str,
) -> Result<(), Box<dyn Error>> {
    let request = Request::get(path)
        .header("x-request-id", id)
        .body(Body::empty())?;
    let res = app.clone().oneshot(request).await?;
    let sampled = res
        .headers()
        .get("x-log-sampled")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?");
    pipeline.flush();
    println!(
        "-- GET {path} (x-request-id: {id}) -> {} x-log-sampled: {sampled}",
        res.status()
    );
    Ok(())
}

fn heading(pipeline: &Pipeline, text: &str) {
    // Everything logged so far is on stdout before the heading is printed.
    pipeline.flush();
    println!("\n== {text}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let (pipeline, guard) = Pipeline::builder()
        .level(fapilog::Level::Debug)
        .sink(StdoutSink::new(), JsonFormat::new())
        .build()?;
    let root = pipeline.logger().bind("service", "shop");

    // Once, at start-up: `tracing` and `log` both feed the same pipeline.
    let subscriber =
        tracing_subscriber::registry().with(TracingBridge::builder().logger(root.clone()).build());
    tracing::subscriber::set_global_default(subscriber)?;
    LogBridge::builder().logger(root).build().install()?;

    let layer = FapilogLayer::builder()
        .pipeline(pipeline.clone())
        .sampling(SamplingConfig::new().rate(0.0)?.always_path("/orders/*")?)
        .build()?;
    let app = Router::new()
        .route("/orders/{id}", get(order))
        .route("/products", get(browse))
        .route("/checkout", get(checkout))
        .layer(layer);

    heading(
        &pipeline,
        "outside any request: the bridges' root logger (no correlation_id)",
    );
    tracing::info!(version = "1.4.2", "service starting");
    log::info!("config loaded");

    heading(&pipeline, "a kept request (always_path /orders/*): Logger, tracing with span fields, log — one correlation_id");
    send(&app, &pipeline, "/orders/7", "req-order-7").await?;

    heading(
        &pipeline,
        "an unsampled request that succeeds: its tracing and log events are discarded",
    );
    send(&app, &pipeline, "/products", "req-browse-1").await?;

    heading(
        &pipeline,
        "an unsampled request with tracing::error!: promoted, every event written in order",
    );
    send(&app, &pipeline, "/checkout", "req-checkout-1").await?;

    heading(&pipeline, "drain");
    let report = fapilog_axum::drain(guard, Duration::from_secs(5))
        .await
        .ok_or("drain task failed")?;
    println!(
        "written {}, discarded by sampling {}, balanced: {}",
        report.written,
        report.metrics.dropped.sampling,
        report.metrics.is_balanced()
    );
    println!("{report}");
    Ok(())
}
