//! fapilog-core: the logging pipeline behind fapilog.
//!
//! The call site captures an owned [`RawEvent`] (timestamp, level, message,
//! typed fields, an `Arc` snapshot of the bound context, an eagerly captured
//! error) and pushes it into a bounded queue. A background writer thread pops
//! whole batches, builds the [`Envelope`], formats it ([`format`](mod@format)) and writes
//! each batch to every [`sink`] with one call. Every event is accounted for:
//! `submitted == written + dropped + failed` ([`pipeline::MetricsSnapshot`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`pipeline`] | builder, queue and overflow policies, writer, metrics, shutdown |
//! | [`format`](mod@format) | JSON, logfmt and pretty encoders with one escaping layer |
//! | [`sink`] | stdout, stderr, file (rotation), null, memory, and the `Sink` trait |
//! | [`process`] | writer-side stages: redaction (on by default), aggregation, throttling, custom processors |
//! | [`enrich`] | service, host, process, thread and Kubernetes fields; custom enrichers |
//! | [`clock`] | the writer's clock, injectable for deterministic tests |
//! | [`config`] | `Config` from code, TOML and `FAPILOG_*` variables; the sink registry |
//! | [`LevelDirectives`] | per-target levels: `info,sqlx=warn,my_app::db=debug` |
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::pipeline::Pipeline;
//! use fapilog_core::{error, info};
//!
//! let (pipeline, guard) = Pipeline::builder().build()?; // JSON lines on stdout
//! let log = pipeline.logger().bind("service", "checkout");
//! info!(log, "order created", order_id = 42u64, total = 19.99);
//! let err = std::io::Error::other("card declined");
//! error!(log, "payment failed", error = &err, order_id = 42u64);
//! let report = guard.shutdown(std::time::Duration::from_secs(5)); // drains, nothing lost
//! assert_eq!(report.written, 2);
//! # Ok(()) }
//! ```
//!
//! The macros and their field syntax are documented in [`macros`](crate::event!):
//! `key = value`, `key = %display`, `key = ?debug`, `error = &err`.
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
mod context;
pub mod enrich;
mod envelope;
mod error;
mod event;
#[cfg(feature = "axum")]
mod extract;
mod filter;
pub mod format;
mod gate;
mod level;
mod logger;
mod macros;
pub mod pipeline;
pub mod process;
#[doc(hidden)]
pub mod profiling;
pub mod sink;
mod swar;
mod value;

pub use context::{Context, CorrelationText, INLINE_ID_LEN};
pub use envelope::{Envelope, RESERVED_KEYS};
pub use error::{ConfigError, ConfigErrorKind};
pub use event::{
    CapturedError, Fields, IntoCapturedError, Message, RawEvent, SamplingTag, Timestamp,
    INLINE_FIELDS,
};
#[cfg(feature = "axum")]
pub use extract::MissingLogger;
pub use filter::LevelDirectives;
pub use gate::EventGate;
pub use level::{Level, LevelFilter, ParseLevelError};
pub use logger::{EventBuilder, Logger};
pub use pipeline::Pipeline;
#[doc(hidden)]
pub use value::LiteralValue;
pub use value::{Field, InlineStr, IntoValue, Key, Value, INLINE_CAPACITY};
