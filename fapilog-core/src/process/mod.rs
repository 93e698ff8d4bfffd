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
//! loses nothing. A panicking processor loses the event it was given, which
//! is counted as failed, and the writer carries on.
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

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::enrich::Enricher;
use crate::event::RawEvent;

mod aggregate;
mod harness;
mod redact;
mod throttle;

pub use aggregate::{
    Aggregator, DEFAULT_AGGREGATION_KEYS, DEFAULT_AGGREGATION_THRESHOLD,
    DEFAULT_AGGREGATION_WINDOW, MAX_AGGREGATION_COUNT, MAX_AGGREGATION_WINDOW,
};
pub use harness::ProcessorHarness;
pub use redact::{Redactor, DEFAULT_REDACTED_FIELDS, REDACTED};
pub use throttle::{
    Throttle, ThrottleKey, DEFAULT_THROTTLE_BURST, DEFAULT_THROTTLE_KEYS, DEFAULT_THROTTLE_REFILL,
};

/// A writer-side stage that may pass, hold, merge, discard or add events.
pub trait Processor: Send + 'static {
    /// Handles one event: pass it on, hold it, or discard it, through `out`.
    fn process(&mut self, event: RawEvent, now: Instant, out: &mut Emit<'_>);

    /// Called at least once per batch, and when [`next_deadline`](Self::next_deadline)
    /// passes: emit what is due at `now`. Default: nothing.
    fn tick(&mut self, now: Instant, out: &mut Emit<'_>) {
        let _ = (now, out);
    }

    /// When the writer should wake to call [`tick`](Self::tick) even if no
    /// event arrives. Default: never.
    fn next_deadline(&self) -> Option<Instant> {
        None
    }

    /// The pipeline is being flushed: emit every event held. Default: nothing.
    fn flush(&mut self, out: &mut Emit<'_>) {
        let _ = out;
    }

    /// The pipeline is shutting down: emit everything held and any final
    /// report. Default: [`flush`](Self::flush).
    fn shutdown(&mut self, out: &mut Emit<'_>) {
        self.flush(out);
    }

    /// A short name for diagnostics. Default: `"custom"`.
    fn name(&self) -> &str {
        "custom"
    }
}

/// Why a built-in stage discarded an event (each a `dropped` reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discard {
    Filtered,
    Throttled,
    Aggregated,
}

/// Counts the writer adds to the pipeline's counters after each batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) filtered: u64,
    pub(crate) throttled: u64,
    pub(crate) aggregated: u64,
    pub(crate) processor_panics: u64,
    pub(crate) redaction_failures: u64,
}

/// What kind of record an output item is, for the accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    /// A user event (counts as written or failed).
    Event,
    /// A record a processor wrote itself (throttle notices).
    Notice,
    /// An in-band loss report.
    Loss,
}

/// One record on its way to the formats.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) event: RawEvent,
    pub(crate) kind: ItemKind,
}

/// Where a [`Processor`] puts its results.
pub struct Emit<'a> {
    items: &'a mut Vec<Item>,
    tally: &'a mut Tally,
}

impl<'a> Emit<'a> {
    pub(crate) fn new(items: &'a mut Vec<Item>, tally: &'a mut Tally) -> Self {
        Emit { items, tally }
    }

    /// Passes `event` on to the next stage.
    pub fn pass(&mut self, event: RawEvent) {
        self.items.push(Item {
            event,
            kind: ItemKind::Event,
        });
    }

    /// Writes a record of the processor's own (not counted as submitted);
    /// it skips later processors but is still redacted.
    pub fn notice(&mut self, event: RawEvent) {
        self.items.push(Item {
            event,
            kind: ItemKind::Notice,
        });
    }

    /// Discards `event`; it is counted as `dropped.filtered`.
    pub fn discard(&mut self, event: RawEvent) {
        self.discard_as(event, Discard::Filtered);
    }

    pub(crate) fn discard_as(&mut self, event: RawEvent, reason: Discard) {
        drop(event);
        let counter = match reason {
            Discard::Filtered => &mut self.tally.filtered,
            Discard::Throttled => &mut self.tally.throttled,
            Discard::Aggregated => &mut self.tally.aggregated,
        };
        *counter += 1;
    }

    pub(crate) fn discard_many(&mut self, n: u64, reason: Discard) {
        let counter = match reason {
            Discard::Filtered => &mut self.tally.filtered,
            Discard::Throttled => &mut self.tally.throttled,
            Discard::Aggregated => &mut self.tally.aggregated,
        };
        *counter += n;
    }
}

impl fmt::Debug for Emit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emit")
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// The writer's stages, in order, with one scratch buffer per processor.
pub(crate) struct Stages {
    enrichers: Vec<Box<dyn Enricher>>,
    processors: Vec<Box<dyn Processor>>,
    scratch: Vec<Vec<Item>>,
    redaction: Redactor,
}

impl Stages {
    pub(crate) fn new(
        enrichers: Vec<Box<dyn Enricher>>,
        processors: Vec<Box<dyn Processor>>,
        redaction: Redactor,
    ) -> Self {
        let scratch = processors.iter().map(|_| Vec::new()).collect();
        Stages {
            enrichers,
            processors,
            scratch,
            redaction,
        }
    }

    /// Enriches `event` and runs it through every processor into `out`.
    pub(crate) fn process(
        &mut self,
        mut event: RawEvent,
        now: Instant,
        out: &mut Vec<Item>,
        tally: &mut Tally,
    ) {
        for enricher in &mut self.enrichers {
            let _ = catch_unwind(AssertUnwindSafe(|| enricher.enrich(&mut event)));
        }
        feed(
            &mut self.processors,
            &mut self.scratch,
            event,
            now,
            out,
            tally,
        );
    }

    /// Lets every processor emit what is due, in stage order.
    pub(crate) fn tick(&mut self, now: Instant, out: &mut Vec<Item>, tally: &mut Tally) {
        self.each_stage(now, out, tally, |p, now, emit| p.tick(now, emit));
    }

    /// Every processor emits what it holds.
    pub(crate) fn flush(&mut self, now: Instant, out: &mut Vec<Item>, tally: &mut Tally) {
        self.each_stage(now, out, tally, |p, _, emit| p.flush(emit));
    }

    /// Every processor emits what it holds and its final reports.
    pub(crate) fn shutdown(&mut self, now: Instant, out: &mut Vec<Item>, tally: &mut Tally) {
        self.each_stage(now, out, tally, |p, _, emit| p.shutdown(emit));
    }

    /// The earliest deadline of any processor.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.processors
            .iter()
            .filter_map(|p| catch_unwind(AssertUnwindSafe(|| p.next_deadline())).ok()?)
            .min()
    }

    /// Redacts every item but loss records (events and notices).
    pub(crate) fn redact(&mut self, items: &mut [Item], tally: &mut Tally) {
        for item in items {
            if item.kind != ItemKind::Loss {
                tally.redaction_failures += self.redaction.redact(&mut item.event);
            }
        }
    }

    fn each_stage(
        &mut self,
        now: Instant,
        out: &mut Vec<Item>,
        tally: &mut Tally,
        call: impl Fn(&mut dyn Processor, Instant, &mut Emit<'_>),
    ) {
        for index in 0..self.processors.len() {
            let (head, rest) = self.processors.split_at_mut(index + 1);
            let (scratch_head, scratch_rest) = self.scratch.split_at_mut(index + 1);
            let (Some(stage), Some(buf)) = (head.last_mut(), scratch_head.last_mut()) else {
                continue;
            };
            let result = {
                let mut emit = Emit::new(buf, tally);
                catch_unwind(AssertUnwindSafe(|| call(stage.as_mut(), now, &mut emit)))
            };
            if result.is_err() {
                report_panic(stage.name());
            }
            drain_into(buf, rest, scratch_rest, now, out, tally);
        }
    }
}

/// Runs `event` through `procs` (with their scratch buffers) into `out`.
fn feed(
    procs: &mut [Box<dyn Processor>],
    scratch: &mut [Vec<Item>],
    event: RawEvent,
    now: Instant,
    out: &mut Vec<Item>,
    tally: &mut Tally,
) {
    let (Some((stage, rest)), Some((buf, scratch_rest))) =
        (procs.split_first_mut(), scratch.split_first_mut())
    else {
        out.push(Item {
            event,
            kind: ItemKind::Event,
        });
        return;
    };
    let result = {
        let mut emit = Emit::new(buf, tally);
        catch_unwind(AssertUnwindSafe(|| stage.process(event, now, &mut emit)))
    };
    if result.is_err() {
        tally.processor_panics += 1;
        report_panic(stage.name());
    }
    drain_into(buf, rest, scratch_rest, now, out, tally);
}

/// Sends what a stage emitted on: events to the later stages, notices straight out.
fn drain_into(
    buf: &mut Vec<Item>,
    rest: &mut [Box<dyn Processor>],
    scratch_rest: &mut [Vec<Item>],
    now: Instant,
    out: &mut Vec<Item>,
    tally: &mut Tally,
) {
    if buf.is_empty() {
        return;
    }
    let mut items = std::mem::take(buf);
    for item in items.drain(..) {
        match item.kind {
            ItemKind::Event => feed(rest, scratch_rest, item.event, now, out, tally),
            _ => out.push(item),
        }
    }
    *buf = items;
}

/// Reports a panicking processor on stderr, at most once a second.
fn report_panic(name: &str) {
    static LAST_REPORT_SECS: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if LAST_REPORT_SECS.swap(now, Ordering::Relaxed) != now {
        eprintln!("fapilog: processor {name} panicked; the event it held is counted as failed");
    }
}

impl fmt::Debug for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stages")
            .field("enrichers", &self.enrichers.len())
            .field(
                "processors",
                &self.processors.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("redaction", &self.redaction)
            .finish()
    }
}
