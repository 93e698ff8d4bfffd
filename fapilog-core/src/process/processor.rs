//! The [`Processor`] trait and [`Emit`], where a processor puts its results.

use std::fmt;
use std::time::Instant;

use crate::event::RawEvent;

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
    pub(crate) stage_panics: u64,
    pub(crate) redaction_failures: u64,
}

impl Tally {
    /// Events the stages discarded so far, for any reason.
    pub(crate) fn discarded(&self) -> u64 {
        self.filtered + self.throttled + self.aggregated
    }
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
