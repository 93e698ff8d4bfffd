//! The background writer: pops batches, runs the stages, builds envelopes, formats, writes.
//!
//! It runs on its own named thread, off the async runtime's workers. Each
//! batch goes through the enrichers, processors and redaction (`process`),
//! and is encoded into one reused buffer per sink and written with one call
//! per sink. A sink or format that errors or panics is isolated: its events
//! (those past the accepted prefix, when the sink reports a
//! [`PartialWrite`]) are counted as failed, a line goes to stderr at most once a second, and the
//! other sinks carry on.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::enrich::thread::NameCache;
use crate::enrich::THREAD_NAME_KEY;
use crate::envelope::Envelope;
use crate::event::RawEvent;
use crate::format::Format;
use crate::level::Level;
use crate::pipeline::handle::Shared;
use crate::pipeline::metrics::{add, MetricsSnapshot, SinkCounters};
use crate::pipeline::pace::Pace;
use crate::pipeline::queue::{prefaulted, LossRange, Take};
use crate::process::{Item, ItemKind, Stages, Tally};
use crate::sink::{PartialWrite, Sink};
use crate::value::{Field, Key, Value};

/// The shortest the writer sleeps while waiting for a processor's deadline.
const MIN_IDLE: Duration = Duration::from_millis(1);

/// How often, at most, a failing sink is reported on stderr.
const FAULT_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// A sink with its format and its reusable buffer.
pub(crate) struct Output {
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) format: Box<dyn Format>,
    buf: Vec<u8>,
    /// Per item of the batch, where its line ends in `buf` (`None`: not encoded).
    ends: Vec<Option<usize>>,
    last_report: Option<Instant>,
}

impl Output {
    pub(crate) fn new(sink: Box<dyn Sink>, format: Box<dyn Format>) -> Self {
        Output {
            sink,
            format,
            buf: Vec::with_capacity(64 * 1024),
            ends: Vec::new(),
            last_report: None,
        }
    }

    fn report(&mut self, counters: &SinkCounters, what: &dyn fmt::Display) {
        let due = self
            .last_report
            .is_none_or(|t| t.elapsed() >= FAULT_REPORT_INTERVAL);
        if due {
            self.last_report = Some(Instant::now());
            let faults = counters.errors.load(std::sync::atomic::Ordering::Relaxed)
                + counters.panics.load(std::sync::atomic::Ordering::Relaxed);
            super::report_on_stderr(format_args!(
                "fapilog: sink {} failed: {what} ({faults} faults so far)",
                counters.name
            ));
        }
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("sink", &self.sink.name())
            .finish_non_exhaustive()
    }
}

/// The writer's state, owned by its thread.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    outputs: Vec<Output>,
    batch: VecDeque<RawEvent>,
    items: Vec<Item>,
    failed: Vec<bool>,
    pace: Pace,
    stages: Stages,
    clock: Arc<dyn Clock>,
    /// The static enrichment fields, plus one slot for the thread name.
    enrichment: Vec<Field>,
    static_fields: usize,
    thread_names: Option<NameCache>,
    threads: Vec<Option<&'static str>>,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("outputs", &self.outputs)
            .field("stages", &self.stages)
            .field("pace", &self.pace)
            .finish_non_exhaustive()
    }
}

/// What the writer needs besides the queue and the outputs.
pub(crate) struct WriterParts {
    pub(crate) linger: Duration,
    pub(crate) stages: Stages,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) enrichment: Vec<Field>,
    pub(crate) thread_names: bool,
}

impl Writer {
    pub(crate) fn new(shared: Arc<Shared>, outputs: Vec<Output>, parts: WriterParts) -> Self {
        let capacity = shared.queue.capacity();
        let pace = Pace::new(shared.queue.batch_size(), parts.linger, Instant::now());
        let static_fields = parts.enrichment.len();
        Writer {
            shared,
            outputs,
            batch: prefaulted(capacity),
            items: Vec::new(),
            failed: Vec::new(),
            pace,
            stages: parts.stages,
            clock: parts.clock,
            enrichment: parts.enrichment,
            static_fields,
            thread_names: parts.thread_names.then(NameCache::default),
            threads: Vec::new(),
        }
    }

    pub(crate) fn spawn(self, name: &str) -> io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || self.run())
    }

    /// The clock's reading; a panicking clock falls back to the real one.
    fn now(&self) -> Instant {
        let clock = &self.clock;
        catch_unwind(AssertUnwindSafe(|| clock.now())).unwrap_or_else(|_| Instant::now())
    }

    fn run(mut self) {
        self.shared.queue.mark_writer_thread();
        loop {
            let idle = self
                .stages
                .next_deadline()
                // At least a millisecond, so a processor whose deadline stays
                // in the past cannot make the writer spin.
                .map(|deadline| deadline.saturating_duration_since(self.now()).max(MIN_IDLE));
            let take = self
                .shared
                .queue
                .take(&mut self.batch, self.pace.wait(), idle);
            self.pace.taken(self.batch.len(), Instant::now());
            self.process(&take);
            self.write_items(take.flush);
            if take.last {
                self.count_lost_in_stages();
            }
            // Dropping events frees their owned strings here, not on the caller's thread.
            self.items.clear();
            if take.last {
                // The sinks, processors and enrichers go before the writer
                // says it is done: the drain's deadline bounds their `Drop`
                // too. Every event is written by now: a `Drop` that panics
                // loses none, and must not keep the drain waiting.
                let shared = Arc::clone(&self.shared);
                if catch_unwind(AssertUnwindSafe(move || drop(self))).is_err() {
                    super::report_on_stderr(format_args!(
                        "fapilog: a sink or stage panicked when dropped at shutdown"
                    ));
                }
                shared.queue.complete(&take);
                return;
            }
            self.shared.queue.complete(&take);
        }
    }

    /// Turns the batch into the records to write: loss reports, then every
    /// event through the stages, then what the stages release; all redacted.
    fn process(&mut self, take: &Take) {
        let mut tally = Tally::default();
        self.items.extend(take.losses.iter().map(|loss| Item {
            event: loss_record(loss),
            kind: ItemKind::Loss,
        }));
        let now = self.now();
        self.stages.tick(now, &mut self.items, &mut tally);
        if self.stages.passes_through() {
            // One move per event; through the stages it took three.
            let events = self.batch.drain(..).map(|event| Item {
                event,
                kind: ItemKind::Event,
            });
            self.items.extend(events);
        } else {
            for event in self.batch.drain(..) {
                self.stages.process(event, now, &mut self.items, &mut tally);
            }
        }
        if take.last {
            self.stages.shutdown(now, &mut self.items, &mut tally);
        } else if take.flush {
            self.stages.flush(now, &mut self.items, &mut tally);
        }
        self.stages.redact(&mut self.items, &mut tally);
        let counters = &self.shared.counters;
        add(&counters.dropped_filtered, tally.filtered);
        add(&counters.dropped_throttled, tally.throttled);
        add(&counters.dropped_aggregated, tally.aggregated);
        add(&counters.failed, tally.stage_panics);
        add(&counters.redaction_failures, tally.redaction_failures);
    }

    /// After the last batch, whatever was accepted but is neither written,
    /// dropped nor failed was lost inside a stage (a processor that panicked
    /// while holding events, or kept them past shutdown): it counts as failed,
    /// so the accounting stays exact.
    fn count_lost_in_stages(&self) {
        let shared = &self.shared;
        let capacity = shared.queue.capacity();
        let queue = shared.queue.counts();
        let m = MetricsSnapshot::read(&shared.counters, || queue, capacity, &[]);
        // A producer still waiting for room counts its own event, as dropped at shutdown.
        let lost = m.in_flight().saturating_sub(queue.blocked as u64);
        if lost > 0 {
            add(&shared.counters.failed, lost);
            super::report_on_stderr(format_args!(
                "fapilog: {lost} events held by processors were lost at shutdown (counted as failed)"
            ));
        }
    }

    fn write_items(&mut self, flush: bool) {
        if self.items.is_empty() {
            if flush {
                self.flush_sinks();
            }
            return;
        }
        self.failed.clear();
        self.failed.resize(self.items.len(), false);
        self.threads.clear();
        match &mut self.thread_names {
            Some(cache) => self.threads.extend(self.items.iter().map(|item| {
                (item.kind == ItemKind::Event)
                    .then(|| cache.get(item.event.thread))
                    .flatten()
            })),
            None => self.threads.resize(self.items.len(), None),
        }
        for index in 0..self.outputs.len() {
            self.write_output(index, flush);
        }
        let mut events = 0;
        let mut failed = 0;
        let mut losses = 0;
        let mut notices = 0;
        for (item, item_failed) in self.items.iter().zip(&self.failed) {
            match item.kind {
                ItemKind::Event => {
                    events += 1;
                    failed += u64::from(*item_failed);
                }
                ItemKind::Loss => losses += 1,
                ItemKind::Notice => notices += 1,
            }
        }
        let counters = &self.shared.counters;
        add(&counters.written, events - failed);
        add(&counters.failed, failed);
        add(&counters.loss_records, losses);
        add(&counters.throttle_records, notices);
        add(&counters.batches, 1);
    }

    fn write_output(&mut self, index: usize, flush: bool) {
        let counters = &self.shared.counters.sinks[index];
        let out = &mut self.outputs[index];
        out.buf.clear();
        out.ends.clear();
        let mut lost_here = 0;
        let items = self.items.iter().zip(self.failed.iter_mut());
        for ((item, failed), thread) in items.zip(&self.threads) {
            self.enrichment.truncate(self.static_fields);
            if let Some(name) = thread {
                self.enrichment.push(Field {
                    key: Key::from_static(THREAD_NAME_KEY),
                    value: Value::Static(name),
                });
            }
            if encode(out, &Envelope::enriched(&item.event, &self.enrichment)) {
                out.ends.push(Some(out.buf.len()));
            } else {
                out.ends.push(None);
                add(&counters.panics, 1);
                if item.kind == ItemKind::Event {
                    *failed = true;
                    lost_here += 1;
                }
            }
        }
        if !out.buf.is_empty() {
            let Output { sink, buf, .. } = &mut *out;
            let result = catch_unwind(AssertUnwindSafe(|| sink.write(buf)));
            if let Some(fault) = Fault::from_result(result) {
                fault.count(counters);
                // Lines wholly inside what the sink accepted reached it; the rest did not.
                let accepted = fault.accepted();
                let items = self.items.iter().zip(self.failed.iter_mut());
                for ((item, failed), end) in items.zip(&out.ends) {
                    let lost = end.is_some_and(|end| end > accepted);
                    if lost && item.kind == ItemKind::Event {
                        *failed = true;
                        lost_here += 1;
                    }
                }
                out.report(counters, &fault);
            }
        }
        add(&counters.events_failed, lost_here);
        if flush {
            flush_output(out, counters);
        }
    }

    fn flush_sinks(&mut self) {
        for (out, counters) in self.outputs.iter_mut().zip(&self.shared.counters.sinks) {
            flush_output(out, counters);
        }
    }
}

fn flush_output(out: &mut Output, counters: &SinkCounters) {
    let sink = &mut out.sink;
    let result = catch_unwind(AssertUnwindSafe(|| sink.flush()));
    if let Some(fault) = Fault::from_result(result) {
        fault.count(counters);
        out.report(counters, &fault);
    }
}

/// Encodes one record; on a panicking format, removes the partial output and says so.
fn encode(out: &mut Output, envelope: &Envelope<'_>) -> bool {
    let before = out.buf.len();
    let Output { format, buf, .. } = out;
    let ok = catch_unwind(AssertUnwindSafe(|| format.encode(envelope, buf))).is_ok();
    if !ok {
        buf.truncate(before);
    }
    ok
}

/// What went wrong with a sink call.
enum Fault {
    Error(io::Error),
    Panic,
}

impl Fault {
    fn from_result(result: std::thread::Result<io::Result<()>>) -> Option<Fault> {
        match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Fault::Error(e)),
            Err(_) => Some(Fault::Panic),
        }
    }

    /// How many leading bytes of the batch the sink accepted before the fault.
    fn accepted(&self) -> usize {
        match self {
            Fault::Error(e) => PartialWrite::accepted_by(e),
            Fault::Panic => 0,
        }
    }

    fn count(&self, counters: &SinkCounters) {
        match self {
            Fault::Error(_) => add(&counters.errors, 1),
            Fault::Panic => add(&counters.panics, 1),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Error(e) => write!(f, "{e}"),
            Fault::Panic => f.write_str("panicked"),
        }
    }
}

/// The in-band WARN record that makes a loss visible in the log itself.
fn loss_record(loss: &LossRange) -> RawEvent {
    let mut event = RawEvent::new(Level::Warn, "events dropped");
    event.set_target("fapilog");
    event.push_field("dropped", loss.count);
    event.push_field("reason", loss.reason.as_str());
    event.push_field("first_seq", loss.first_seq);
    event.push_field("last_seq", loss.last_seq);
    event
}
