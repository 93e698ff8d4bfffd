//! The background writer: pops batches, builds envelopes, formats, writes.
//!
//! It runs on its own named thread, off the async runtime's workers. Each
//! batch is encoded into one reused buffer per sink and written with one call
//! per sink. A sink or format that errors or panics is isolated: its events
//! are counted as failed, a line goes to stderr at most once a second, and the
//! other sinks carry on.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::envelope::Envelope;
use crate::event::RawEvent;
use crate::format::Format;
use crate::level::Level;
use crate::pipeline::handle::Shared;
use crate::pipeline::metrics::{add, SinkCounters};
use crate::pipeline::queue::{LossRange, Take};
use crate::sink::Sink;

/// How often, at most, a failing sink is reported on stderr.
const FAULT_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// A sink with its format and its reusable buffer.
pub(crate) struct Output {
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) format: Box<dyn Format>,
    buf: Vec<u8>,
    last_report: Option<Instant>,
}

impl Output {
    pub(crate) fn new(sink: Box<dyn Sink>, format: Box<dyn Format>) -> Self {
        Output {
            sink,
            format,
            buf: Vec::with_capacity(64 * 1024),
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
            eprintln!(
                "fapilog: sink {} failed: {what} ({faults} faults so far)",
                counters.name
            );
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
#[derive(Debug)]
pub(crate) struct Writer {
    shared: Arc<Shared>,
    outputs: Vec<Output>,
    batch: VecDeque<RawEvent>,
    failed: Vec<bool>,
    linger: Duration,
}

impl Writer {
    pub(crate) fn new(shared: Arc<Shared>, outputs: Vec<Output>, linger: Duration) -> Self {
        let capacity = shared.queue.capacity();
        Writer {
            shared,
            outputs,
            batch: VecDeque::with_capacity(capacity),
            failed: Vec::new(),
            linger,
        }
    }

    pub(crate) fn spawn(self, name: &str) -> io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        loop {
            let take = self.shared.queue.take(&mut self.batch, self.linger);
            self.write_batch(&take);
            // Dropping events frees their owned strings here, not on the caller's thread.
            self.batch.clear();
            self.shared.queue.complete(&take);
            if take.last {
                break;
            }
        }
    }

    fn write_batch(&mut self, take: &Take) {
        let losses: Vec<RawEvent> = take.losses.iter().map(loss_record).collect();
        if self.batch.is_empty() && losses.is_empty() {
            if take.flush {
                self.flush_sinks();
            }
            return;
        }
        self.failed.clear();
        self.failed.resize(self.batch.len(), false);
        for index in 0..self.outputs.len() {
            self.write_output(index, &losses, take.flush);
        }
        let failed = self.failed.iter().filter(|&&f| f).count() as u64;
        let counters = &self.shared.counters;
        add(&counters.written, self.batch.len() as u64 - failed);
        add(&counters.failed, failed);
        add(&counters.loss_records, losses.len() as u64);
        add(&counters.batches, 1);
    }

    fn write_output(&mut self, index: usize, losses: &[RawEvent], flush: bool) {
        let counters = &self.shared.counters.sinks[index];
        let out = &mut self.outputs[index];
        out.buf.clear();
        for event in losses {
            encode(out, event);
        }
        let mut lost_here = 0;
        for (event, failed) in self.batch.iter().zip(self.failed.iter_mut()) {
            if !encode(out, event) {
                *failed = true;
                lost_here += 1;
                add(&counters.panics, 1);
            }
        }
        if !out.buf.is_empty() {
            let Output { sink, buf, .. } = &mut *out;
            let result = catch_unwind(AssertUnwindSafe(|| sink.write(buf)));
            if let Some(fault) = Fault::from_result(result) {
                fault.count(counters);
                lost_here = self.batch.len() as u64;
                self.failed.iter_mut().for_each(|f| *f = true);
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

/// Encodes one event; on a panicking format, removes the partial output and says so.
fn encode(out: &mut Output, event: &RawEvent) -> bool {
    let before = out.buf.len();
    let Output { format, buf, .. } = out;
    let ok = catch_unwind(AssertUnwindSafe(|| {
        format.encode(&Envelope::new(event), buf)
    }))
    .is_ok();
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
