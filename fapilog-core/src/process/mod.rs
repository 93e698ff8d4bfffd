//! Writer-side processing between capture and format: redaction, aggregation,
//! throttling, and processors of your own.
//!
//! Every stage runs on the writer thread, never on the caller's. For each
//! batch the writer reads its [`Clock`](crate::clock::Clock) once, then each
//! event goes through, in order:
//!
//! 1. enrichers ([`Enricher`](crate::enrich::Enricher), for example a closure adding a field);
//! 2. custom processors ([`Processor`], in the order they were added);
//! 3. [`Aggregator`] (repetitive logs of system-noise targets);
//! 4. [`Throttle`] (a token bucket per key);
//! 5. [`Redactor`], on every record about to be written, fapilog's own
//!    notices included, so nothing reaches a sink unredacted;
//! 6. the formats and sinks.
//!
//! A processor passes events on ([`Emit::pass`]), adds records of its own
//! ([`Emit::notice`], which skip later processors but not redaction), or
//! discards events ([`Emit::discard`], counted as `dropped.filtered`). Held
//! events stay in flight until the processor emits them: on
//! [`Processor::tick`] when its deadline passes, and on
//! [`Processor::flush`] when the pipeline is flushed or shut down, so a drain
//! loses nothing. A panicking processor or enricher loses the event it was
//! given, which is counted as failed, and the writer carries on; events a
//! processor still holds after its shutdown (it panicked, or never emitted
//! them) are counted as failed then.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::process::{Emit, Processor};
//! use fapilog_core::{Pipeline, RawEvent};
//! use std::time::Instant;
//!
//! /// Drops every event whose message mentions "heartbeat".
//! #[derive(Debug)]
//! struct NoHeartbeats;
//!
//! impl Processor for NoHeartbeats {
//!     fn process(&mut self, event: RawEvent, _now: Instant, out: &mut Emit<'_>) {
//!         if event.message().contains("heartbeat") {
//!             out.discard(event);
//!         } else {
//!             out.pass(event);
//!         }
//!     }
//! }
//!
//! let (pipeline, guard) = Pipeline::builder()
//!     .sink(fapilog_core::sink::NullSink::new(), fapilog_core::format::JsonFormat::new())
//!     .processor(NoHeartbeats)
//!     .build()?;
//! let log = pipeline.logger();
//! log.info("heartbeat");
//! log.info("order created");
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!((report.written, report.metrics.dropped.filtered), (1, 1));
//! # Ok(()) }
//! ```

mod aggregate;
mod harness;
mod processor;
mod recency;
mod redact;
mod stages;
pub(crate) mod throttle;

pub use aggregate::{
    Aggregator, DEFAULT_AGGREGATION_KEYS, DEFAULT_AGGREGATION_THRESHOLD,
    DEFAULT_AGGREGATION_WINDOW, MAX_AGGREGATION_COUNT, MAX_AGGREGATION_WINDOW,
};
pub use harness::ProcessorHarness;
pub use processor::{Emit, Processor};
pub use redact::{Redactor, DEFAULT_REDACTED_FIELDS, REDACTED};
pub use throttle::{
    Throttle, ThrottleKey, DEFAULT_THROTTLE_BURST, DEFAULT_THROTTLE_KEYS, DEFAULT_THROTTLE_REFILL,
};

pub(crate) use processor::{Discard, Item, ItemKind, Tally};
pub(crate) use stages::Stages;

/// xorshift64: a tiny deterministic generator for the processors' model tests.
#[cfg(test)]
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
