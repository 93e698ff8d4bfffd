//! The stacks compared in the middleware benches: bare axum, axum +
//! fapilog, axum + the tower-http/tracing stack, and bare axum behind a no-op
//! layer for reference. Shared by `benches/middleware.rs`
//! and `examples/bench_server.rs`.
#![allow(dead_code, unreachable_pub)]

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::sink::Sink;
use fapilog::{info, Logger};
use fapilog_axum::{FapilogLayer, SamplingConfig};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const ROUTE: &str = "/orders/{id}";

/// Bare axum: the handler does the same work minus logging.
pub fn bare() -> Router {
    Router::new().route(
        ROUTE,
        get(|Path(id): Path<u64>| async move { format!("order {id}") }),
    )
}

/// Bare axum behind a `Router::layer` that does nothing: what axum itself
/// charges for any layer (it boxes the layered route and its future per request).
pub fn noop_layer() -> Router {
    bare().layer(tower::layer::layer_fn(|service| service))
}

async fn fapilog_handler(log: Logger, Path(id): Path<u64>) -> String {
    info!(log, "fetching order", order_id = id);
    format!("order {id}")
}

/// axum + FapilogLayer: access log + one handler event, at `rate`.
pub fn fapilog(sink: impl Sink, rate: f64) -> (Router, WriterGuard) {
    let (pipeline, guard) = Pipeline::builder()
        .capacity(65_536)
        .overflow(OverflowPolicy::DropOldest)
        .sink(sink, JsonFormat::new())
        .build()
        .expect("pipeline");
    let layer = FapilogLayer::builder()
        .pipeline(pipeline)
        .sampling(SamplingConfig::new().rate(rate).expect("rate"))
        .build()
        .expect("layer");
    (
        Router::new()
            .route(ROUTE, get(fapilog_handler))
            .layer(layer),
        guard,
    )
}

async fn tracing_handler(Path(id): Path<u64>) -> String {
    tracing::info!(order_id = id, "fetching order");
    format!("order {id}")
}

/// axum + tower-http TraceLayer + SetRequestId/PropagateRequestId; the caller
/// installs a `tracing` JSON subscriber on `tracing-appender::non_blocking`.
pub fn tracing_stack() -> Router {
    Router::new()
        .route(ROUTE, get(tracing_handler))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The JSON subscriber writing through `non_blocking` into `out`.
pub fn tracing_subscriber_for(
    out: impl std::io::Write + Send + 'static,
) -> (
    impl tracing::Subscriber + Send + Sync,
    tracing_appender::non_blocking::WorkerGuard,
) {
    let (writer, guard) = tracing_appender::non_blocking(out);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (subscriber, guard)
}
