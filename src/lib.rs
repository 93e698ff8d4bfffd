//! fapilog: async-first structured logging for Axum/tower services.
//!
//! This facade re-exports the pipeline ([`fapilog_core`]). The call site
//! captures, a background writer formats and writes, the queue is bounded
//! and every event is accounted for.
//!
//! | feature | adds |
//! |---|---|
//! | `tracing` | `TracingBridge`: `tracing` events into fapilog, in the current request's scope |
//! | `log` | `LogBridge`: `log` records into fapilog, in the current request's scope |
//! | `full` | all of the above |
//!
//! For tests, the `fapilog-testing` crate has `MemorySink`, fault injection
//! and an Axum fixture.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog::ConfigError> {
//! use fapilog::format::JsonFormat;
//! use fapilog::pipeline::Pipeline;
//! use fapilog::sink::StdoutSink;
//! use fapilog::info;
//!
//! let (pipeline, guard) = Pipeline::builder()
//!     .sink(StdoutSink::new(), JsonFormat::new())
//!     .build()?;
//! let log = pipeline.logger();
//! info!(log, "ready", port = 3000u16);
//! guard.shutdown(std::time::Duration::from_secs(5));
//! # Ok(()) }
//! ```

pub use fapilog_axum;
pub use fapilog_axum::FapilogLayer;
#[cfg(feature = "log")]
pub use fapilog_axum::LogBridge;
#[cfg(feature = "tracing")]
pub use fapilog_axum::{SpanFields, TracingBridge};
pub use fapilog_core::*;

/// The README's code, compiled with the doctests (never part of the API).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
