//! Event gates: what a request-scoped logger does with each event.
//!
//! A logger normally submits every enabled event to its pipeline. A logger
//! made with [`Logger::with_gate`](crate::Logger::with_gate) hands each event
//! to its gate instead, which may submit it now, hold it (to write it later if
//! the request fails), or discard it and count it as sampled out. The Axum
//! layer uses this for per-request sampling with error promotion.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::{EventGate, Level, Pipeline, RawEvent};
//! use std::sync::Arc;
//!
//! /// Keeps only WARN and above.
//! #[derive(Debug)]
//! struct WarnOnly;
//!
//! impl EventGate for WarnOnly {
//!     fn route(&self, event: RawEvent, pipeline: &Pipeline) {
//!         if event.level() >= Level::Warn {
//!             pipeline.submit(event);
//!         } else {
//!             pipeline.count_sampled_out(1);
//!         }
//!     }
//! }
//!
//! let (pipeline, guard) = Pipeline::builder().build()?;
//! let log = pipeline.logger().with_gate(Arc::new(WarnOnly));
//! log.info("discarded");
//! log.warn("written");
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!((report.written, report.metrics.dropped.sampling), (1, 1));
//! # Ok(()) }
//! ```

use std::fmt;

use crate::event::RawEvent;
use crate::pipeline::Pipeline;

/// Decides the fate of each event logged through a gated logger.
pub trait EventGate: Send + Sync + fmt::Debug + 'static {
    /// Submits `event` to `pipeline`, holds it, or discards it with
    /// [`Pipeline::count_sampled_out`]. Must not block for long and must not panic.
    fn route(&self, event: RawEvent, pipeline: &Pipeline);
}
