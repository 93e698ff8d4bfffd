//! fapilog-axum: one line, `.layer(FapilogLayer::new())`, gives every request
//! of an Axum app a correlation ID, a request-scoped logger, one deterministic
//! sampling decision with error promotion, an access-log event and the
//! `x-request-id` / `X-Log-Sampled` response headers.
//!
//! | module | what it holds |
//! |---|---|
//! | [`correlation`] | reading, validating and generating correlation IDs |
//! | [`sampling`] | the frozen hash, path rules, the decision |
//! | [`FapilogLayer`] / [`FapilogService`] | the tower layer and service |
//! | [`current_logger`] / [`with_logger`] | the request's logger from anywhere in its task, or in a task it spawns |
//! | [`shutdown`] / [`drain`] | draining pipelines after `with_graceful_shutdown` |
//! | `tracing_bridge` (feature `tracing`) | `TracingBridge`: `tracing` events in the request's scope |
//! | `log_bridge` (feature `log`) | `LogBridge`: `log` records in the request's scope |
//!
//! # Example
//!
//! ```
//! use axum::{routing::get, Extension, Router};
//! use fapilog_axum::FapilogLayer;
//! use fapilog_core::{info, warn, Logger};
//!
//! async fn orders(log: Logger) -> &'static str {
//!     info!(log, "listing orders", page = 1);
//!     "[]"
//! }
//!
//! async fn legacy(Extension(log): Extension<Logger>) -> &'static str {
//!     warn!(log, "legacy endpoint used");
//!     "ok"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/orders", get(orders))
//!     .route("/legacy", get(legacy))
//!     .layer(FapilogLayer::new());
//! ```
#![forbid(unsafe_code)]

mod access_log;
mod body_size;
pub mod correlation;
mod extract;
mod future;
mod layer;
mod lifecycle;
#[cfg(feature = "log")]
pub mod log_bridge;
mod logger_pool;
mod metrics;
mod panic;
mod recycle;
mod request;
pub mod sampling;
mod service;
#[cfg(feature = "tracing")]
pub mod tracing_bridge;
mod wall_clock;

pub use access_log::{AccessLogConfig, ACCESS_TARGET, ALWAYS_REDACTED, REDACTED};
pub use correlation::{CorrelationConfig, CorrelationId, IdFormat};
pub use extract::{current_logger, with_logger};
pub use future::ResponseFuture;
pub use layer::{
    FapilogLayer, FapilogLayerBuilder, DEFAULT_GLOBAL_BUFFER, DEFAULT_REQUEST_BUFFER,
    MAX_GLOBAL_BUFFER, MAX_REQUEST_BUFFER, SAMPLED_HEADER,
};
pub use lifecycle::{default_pipeline, drain, shutdown};
#[cfg(feature = "log")]
pub use log_bridge::LogBridge;
pub use sampling::{SampleRate, SamplingConfig, SamplingDecision};
pub use service::FapilogService;
#[cfg(feature = "tracing")]
pub use tracing_bridge::{SpanFields, TracingBridge};
