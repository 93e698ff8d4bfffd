//! The pipeline: a bounded queue in front of a background writer thread.
//!
//! Callers capture a [`RawEvent`](crate::RawEvent) and push it into the
//! queue; the writer pops whole batches, builds envelopes, formats them and
//! writes each batch to every sink with one call. See [`PipelineBuilder`] for
//! the settings, [`OverflowPolicy`] for what happens when the queue is full,
//! [`MetricsSnapshot`] for the accounting and [`WriterGuard`] for shutdown.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::pipeline::Pipeline;
//! use fapilog_core::sink::FileSink;
//! use fapilog_core::info;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("app.log");
//! let (pipeline, guard) = Pipeline::builder()
//!     .sink(FileSink::builder(&path).build()?, JsonFormat::new())
//!     .build()?;
//! let log = pipeline.logger().bind("service", "billing");
//! info!(log, "invoice sent", invoice_id = 7u64);
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!(report.written, 1);
//! let line = std::fs::read_to_string(&path).unwrap();
//! assert!(line.contains(r#""service":"billing","invoice_id":7"#));
//! # Ok(()) }
//! ```

mod builder;
mod handle;
mod limits;
mod metrics;
mod overflow;
mod pace;
#[cfg(feature = "prometheus")]
mod prometheus;
pub(crate) mod queue;
mod shutdown;
mod writer;

pub use builder::{
    PipelineBuilder, DEFAULT_BATCH_SIZE, DEFAULT_CAPACITY, DEFAULT_DRAIN_DEADLINE,
    DEFAULT_FLUSH_INTERVAL, DEFAULT_LEVEL, MAX_CAPACITY, MAX_FIELDS, MAX_WAIT,
};
pub use handle::{Pipeline, DEFAULT_FLUSH_TIMEOUT};
pub use limits::{DEFAULT_MAX_CAPTURE_BYTES, DEFAULT_MAX_FIELDS, FIELDS_TRUNCATED_KEY};
pub use metrics::{DroppedCounts, ExtraCounter, MetricsSnapshot, MetricsSource, SinkMetrics};
pub use overflow::OverflowPolicy;
pub use shutdown::{DrainReport, WriterGuard};

/// Writes one line about a fault (already counted) to stderr. Not
/// `eprintln!`: it panics when stderr is broken (a closed pipe, a full
/// disk), and on the writer thread that would stop all writing.
pub(crate) fn report_on_stderr(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
