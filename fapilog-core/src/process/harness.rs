//! [`ProcessorHarness`]: runs a processor by hand, outside a pipeline.

use std::fmt;
use std::time::Instant;

use crate::event::RawEvent;
use crate::process::{Emit, Item, ItemKind, Processor, Tally};

/// Runs a [`Processor`] by hand: for unit tests and benchmarks of processors,
/// with time given explicitly.
///
/// ```
/// use fapilog_core::process::{Aggregator, ProcessorHarness};
/// use fapilog_core::{Level, RawEvent};
/// use std::time::{Duration, Instant};
///
/// let mut run = ProcessorHarness::new(Aggregator::new(["sqlx::pool"]));
/// let t0 = Instant::now();
/// for _ in 0..6 {
///     let mut e = RawEvent::new(Level::Debug, "connection acquired");
///     e.set_target("sqlx::pool");
///     run.process(e, t0);
/// }
/// assert!(run.take_output().is_empty()); // held until the window ends
/// run.tick(t0 + Duration::from_secs(1));
/// let out = run.take_output();
/// assert_eq!(out.len(), 1);
/// assert_eq!(run.discarded(), 5);
/// ```
pub struct ProcessorHarness<P> {
    processor: P,
    out: Vec<Item>,
    tally: Tally,
}

impl<P: Processor> ProcessorHarness<P> {
    /// A harness around `processor`.
    pub fn new(processor: P) -> Self {
        ProcessorHarness {
            processor,
            out: Vec::new(),
            tally: Tally::default(),
        }
    }

    /// Gives the processor one event at `now`.
    pub fn process(&mut self, event: RawEvent, now: Instant) {
        let mut emit = Emit::new(&mut self.out, &mut self.tally);
        self.processor.process(event, now, &mut emit);
    }

    /// Lets the processor emit what is due at `now`.
    pub fn tick(&mut self, now: Instant) {
        let mut emit = Emit::new(&mut self.out, &mut self.tally);
        self.processor.tick(now, &mut emit);
    }

    /// Flushes the processor.
    pub fn flush(&mut self) {
        let mut emit = Emit::new(&mut self.out, &mut self.tally);
        self.processor.flush(&mut emit);
    }

    /// Shuts the processor down.
    pub fn shutdown(&mut self) {
        let mut emit = Emit::new(&mut self.out, &mut self.tally);
        self.processor.shutdown(&mut emit);
    }

    /// Everything emitted so far (events and notices, in order), leaving none.
    pub fn take_output(&mut self) -> Vec<RawEvent> {
        self.out.drain(..).map(|item| item.event).collect()
    }

    /// How many of the records emitted so far and not yet taken are notices.
    pub fn pending_notices(&self) -> usize {
        self.out
            .iter()
            .filter(|i| i.kind == ItemKind::Notice)
            .count()
    }

    /// Events the processor discarded, for any reason.
    pub fn discarded(&self) -> u64 {
        self.tally.discarded()
    }

    /// The processor.
    pub fn processor(&self) -> &P {
        &self.processor
    }
}

impl<P> fmt::Debug for ProcessorHarness<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessorHarness")
            .field("pending", &self.out.len())
            .field("tally", &self.tally)
            .finish_non_exhaustive()
    }
}
