//! Fault injection: [`FaultySink`] wraps any sink and breaks it as [`Faults`] says.
//!
//! Use it to prove that an application, and fapilog itself, survive a broken
//! log destination: requests still succeed, nothing panics, and every fault is
//! counted in the pipeline's metrics (`MetricsSnapshot::sinks`: `errors`,
//! `panics`, `events_failed`) and in the `failed` total.
//!
//! | setting | what the sink does |
//! |---|---|
//! | [`fail_after(n)`](Faults::fail_after) | accepts its first `n` events; every later write fails with an I/O error (a batch that crosses the limit passes its first lines on, then fails with a [`PartialWrite`]) |
//! | [`fail_every(n)`](Faults::fail_every) | write number `n`, `2n`, `3n`, … fails with an I/O error and passes nothing on |
//! | [`short_every(n)`](Faults::short_every) | write number `n`, `2n`, `3n`, … passes the first half of its lines on (rounded down), then fails with a [`PartialWrite`] |
//! | [`panic_every(n)`](Faults::panic_every) | write number `n`, `2n`, `3n`, … panics and passes nothing on |
//! | [`stall_every(n, d)`](Faults::stall_every) | write number `n`, `2n`, `3n`, … sleeps `d` (on the writer's thread) first |
//! | [`latency(d)`](Faults::latency) | every write sleeps `d` (on the writer's thread) before anything else |
//!
//! Settings combine; on a write, latency comes first, then `stall_every`,
//! `panic_every`, `fail_every`, `short_every` and `fail_after`. Writes are
//! counted from 1. The pipeline counts the lines a [`PartialWrite`] reports as
//! accepted as written, so the sink's contents and the metrics always agree.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::pipeline::Pipeline;
//! use fapilog_testing::{FaultySink, Faults, MemorySink};
//!
//! let memory = MemorySink::new();
//! let broken = FaultySink::new(memory.clone(), Faults::new().fail_every(2));
//! let (pipeline, _guard) = Pipeline::builder().sink(broken, JsonFormat::new()).build()?;
//! let log = pipeline.logger();
//! for n in 0..4u64 {
//!     log.event(fapilog_core::Level::Info, "tick").field("n", n).emit();
//!     assert!(pipeline.flush()); // one event per write
//! }
//! let m = pipeline.metrics();
//! assert_eq!((m.written, m.failed, m.sinks[0].errors), (2, 2, 2));
//! assert_eq!(memory.count(), 2); // writes 1 and 3
//! # Ok(()) }
//! ```

use std::io;
use std::time::Duration;

use fapilog_core::sink::{PartialWrite, Sink};

/// The message of the I/O errors a [`FaultySink`] returns.
pub const INJECTED_ERROR: &str = "fapilog-testing: injected write failure";

/// The panic message of a [`FaultySink`] told to panic.
pub const INJECTED_PANIC: &str = "fapilog-testing: injected panic";

/// Which faults a [`FaultySink`] injects. Default: none.
///
/// ```
/// use fapilog_testing::Faults;
/// use std::time::Duration;
///
/// let faults = Faults::new().fail_after(100).latency(Duration::from_millis(2));
/// assert_eq!(faults.get_fail_after(), Some(100));
/// assert!(Faults::new().is_none());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Faults {
    fail_after: Option<u64>,
    fail_every: u64,
    short_every: u64,
    panic_every: u64,
    stall_every: u64,
    stall: Duration,
    latency: Duration,
}

impl Faults {
    /// No faults: the wrapped sink behaves as it is.
    pub fn new() -> Self {
        Faults::default()
    }

    /// Accept the first `events` events, then fail every write. Default: never.
    /// `fail_after(0)` fails every write.
    pub fn fail_after(mut self, events: u64) -> Self {
        self.fail_after = Some(events);
        self
    }

    /// Fail every `n`th write with an I/O error. Default: 0 (never).
    pub fn fail_every(mut self, n: u64) -> Self {
        self.fail_every = n;
        self
    }

    /// Make every `n`th write short: pass the first half of its lines on
    /// (rounded down), then fail with a [`PartialWrite`] naming those bytes.
    /// Default: 0 (never).
    pub fn short_every(mut self, n: u64) -> Self {
        self.short_every = n;
        self
    }

    /// Stall every `n`th write for `stall` before doing anything else (a
    /// destination that hangs for a while). Default: 0 (never).
    pub fn stall_every(mut self, n: u64, stall: Duration) -> Self {
        self.stall_every = n;
        self.stall = stall;
        self
    }

    /// Panic on every `n`th write. Default: 0 (never). `panic_every(1)` panics on every write.
    pub fn panic_every(mut self, n: u64) -> Self {
        self.panic_every = n;
        self
    }

    /// Sleep this long at the start of every write. Default: zero.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The `fail_after` limit, if set.
    pub fn get_fail_after(&self) -> Option<u64> {
        self.fail_after
    }

    /// The `fail_every` period (0: never).
    pub fn get_fail_every(&self) -> u64 {
        self.fail_every
    }

    /// The `short_every` period (0: never).
    pub fn get_short_every(&self) -> u64 {
        self.short_every
    }

    /// The `stall_every` period (0: never) and how long each stall lasts.
    pub fn get_stall_every(&self) -> (u64, Duration) {
        (self.stall_every, self.stall)
    }

    /// The `panic_every` period (0: never).
    pub fn get_panic_every(&self) -> u64 {
        self.panic_every
    }

    /// The latency added to every write.
    pub fn get_latency(&self) -> Duration {
        self.latency
    }

    /// Whether no fault is set.
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }
}

/// A sink that injects [`Faults`] into the sink it wraps.
///
/// ```
/// use fapilog_core::sink::{NullSink, Sink};
/// use fapilog_testing::{FaultySink, Faults, INJECTED_ERROR};
///
/// let mut sink = FaultySink::new(NullSink::new(), Faults::new().fail_after(1));
/// assert_eq!(sink.name(), "faulty:null");
/// sink.write(b"one\ntwo\n").map(|_| ()).unwrap_err(); // "one" passes, then the limit
/// let err = sink.write(b"three\n").unwrap_err();
/// assert_eq!(err.to_string(), INJECTED_ERROR);
/// assert_eq!((sink.writes(), sink.events_passed()), (2, 1));
/// ```
#[derive(Debug, Clone)]
pub struct FaultySink<S> {
    inner: S,
    faults: Faults,
    writes: u64,
    events_passed: u64,
}

impl<S: Sink> FaultySink<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, faults: Faults) -> Self {
        FaultySink {
            inner,
            faults,
            writes: 0,
            events_passed: 0,
        }
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The faults injected.
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// Writes received so far, failed or not.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Events (lines) passed on to the wrapped sink so far.
    pub fn events_passed(&self) -> u64 {
        self.events_passed
    }

    fn pass(&mut self, lines: &[u8]) -> io::Result<()> {
        self.inner.write(lines)?;
        self.events_passed += count_lines(lines);
        Ok(())
    }

    /// Passes the first `lines` lines of `batch` on, then fails saying so.
    fn pass_part(&mut self, batch: &[u8], lines: u64) -> io::Result<()> {
        let cut = first_lines(batch, lines);
        if cut == 0 {
            return Err(injected());
        }
        self.pass(&batch[..cut])?;
        Err(PartialWrite::new(cut, injected()).into())
    }
}

fn injected() -> io::Error {
    io::Error::other(INJECTED_ERROR)
}

fn count_lines(batch: &[u8]) -> u64 {
    batch.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The length of the first `n` lines of `batch`.
fn first_lines(batch: &[u8], n: u64) -> usize {
    if n == 0 {
        return 0;
    }
    let mut seen = 0;
    for (i, b) in batch.iter().enumerate() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    batch.len()
}

fn is_nth(count: u64, n: u64) -> bool {
    n != 0 && count % n == 0
}

impl<S: Sink> Sink for FaultySink<S> {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        self.writes += 1;
        if !self.faults.latency.is_zero() {
            std::thread::sleep(self.faults.latency);
        }
        if is_nth(self.writes, self.faults.stall_every) {
            std::thread::sleep(self.faults.stall);
        }
        if is_nth(self.writes, self.faults.panic_every) {
            // Injected on purpose: the writer must catch it, count it and carry on.
            std::panic::panic_any(INJECTED_PANIC);
        }
        if is_nth(self.writes, self.faults.fail_every) {
            return Err(injected());
        }
        if is_nth(self.writes, self.faults.short_every) {
            return self.pass_part(batch, count_lines(batch) / 2);
        }
        if let Some(limit) = self.faults.fail_after {
            let room = limit.saturating_sub(self.events_passed);
            if count_lines(batch) > room {
                return self.pass_part(batch, room);
            }
        }
        self.pass(batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn name(&self) -> String {
        format!("faulty:{}", self.inner.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySink;

    fn line(n: u64) -> String {
        format!("{{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"level\":\"INFO\",\"msg\":\"m\",\"seq\":{n}}}\n")
    }

    #[test]
    fn fail_after_passes_exactly_the_limit_even_across_a_batch() {
        let memory = MemorySink::new();
        let mut sink = FaultySink::new(memory.clone(), Faults::new().fail_after(3));
        sink.write(line(1).as_bytes()).unwrap();
        let batch = [line(2), line(3), line(4)].concat();
        let err = sink.write(batch.as_bytes()).unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 2 * line(2).len());
        assert!(sink.write(line(5).as_bytes()).is_err());
        let seqs: Vec<_> = memory.events().iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(sink.events_passed(), 3);
    }

    #[test]
    fn every_nth_write_fails_or_panics() {
        let mut sink = FaultySink::new(MemorySink::new(), Faults::new().fail_every(2));
        let results: Vec<bool> = (1..=4)
            .map(|n| sink.write(line(n).as_bytes()).is_ok())
            .collect();
        assert_eq!(results, [true, false, true, false]);

        let mut sink = FaultySink::new(MemorySink::new(), Faults::new().panic_every(2));
        assert!(sink.write(line(1).as_bytes()).is_ok());
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = sink.write(line(2).as_bytes());
        }))
        .unwrap_err();
        assert_eq!(panicked.downcast_ref::<&str>(), Some(&INJECTED_PANIC));
        assert_eq!(sink.inner().count(), 1);
    }

    #[test]
    fn short_writes_pass_half_the_lines_and_say_how_much() {
        let memory = MemorySink::new();
        let mut sink = FaultySink::new(memory.clone(), Faults::new().short_every(2));
        sink.write(line(1).as_bytes()).unwrap();
        let batch = [line(2), line(3), line(4), line(5), line(6)].concat();
        let err = sink.write(batch.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{INJECTED_ERROR} (after {} bytes)", 2 * line(2).len())
        );
        assert_eq!(PartialWrite::accepted_by(&err), 2 * line(2).len());
        sink.write(line(7).as_bytes()).unwrap();
        // A one-line short write passes nothing: a plain error.
        let err = sink.write(line(8).as_bytes()).unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 0);
        let seqs: Vec<_> = memory.events().iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3, 7]);
    }

    #[test]
    fn a_stalling_sink_keeps_its_setting_and_fails_no_write() {
        let faults = Faults::new().stall_every(3, Duration::from_millis(1));
        assert_eq!(faults.get_stall_every(), (3, Duration::from_millis(1)));
        let mut sink = FaultySink::new(MemorySink::new(), faults);
        for n in 1..=4 {
            sink.write(line(n).as_bytes()).unwrap();
        }
        assert_eq!(sink.events_passed(), 4);
    }

    #[test]
    fn no_faults_is_transparent() {
        let mut sink = FaultySink::new(MemorySink::new(), Faults::new());
        assert!(sink.faults().is_none());
        for n in 1..=3 {
            sink.write(line(n).as_bytes()).unwrap();
        }
        sink.flush().unwrap();
        assert_eq!((sink.writes(), sink.events_passed()), (3, 3));
    }
}
