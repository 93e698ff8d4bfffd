//! The writer's chain of enrichers and processors, and redaction of what leaves it.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::enrich::Enricher;
use crate::event::RawEvent;
use crate::process::{Emit, Item, ItemKind, Processor, Redactor, Tally};

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

    /// Whether events leave as they came in (no enricher, no processor):
    /// the writer then moves a batch into its output in one pass.
    pub(crate) fn passes_through(&self) -> bool {
        self.enrichers.is_empty() && self.processors.is_empty()
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
            if catch_unwind(AssertUnwindSafe(|| enricher.enrich(&mut event))).is_err() {
                // The event may be half-changed: it is not written, and counts as failed.
                tally.stage_panics += 1;
                report_panic("enricher");
                return;
            }
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
    let discarded = tally.discarded();
    let result = {
        let mut emit = Emit::new(buf, tally);
        catch_unwind(AssertUnwindSafe(|| stage.process(event, now, &mut emit)))
    };
    if result.is_err() {
        // A stage that passed or discarded an event before panicking handed it
        // on (a stateless stage has no other to hand on): not lost, so not failed.
        let handed_on =
            tally.discarded() > discarded || buf.iter().any(|item| item.kind == ItemKind::Event);
        if !handed_on {
            tally.stage_panics += 1;
        }
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

/// Reports a panicking processor or enricher on stderr, at most once a second.
fn report_panic(name: &str) {
    static LAST_REPORT_SECS: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if LAST_REPORT_SECS.swap(now, Ordering::Relaxed) != now {
        crate::pipeline::report_on_stderr(format_args!(
            "fapilog: stage {name} panicked; the event it held is counted as failed"
        ));
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
