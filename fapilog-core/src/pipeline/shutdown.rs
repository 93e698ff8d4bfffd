//! The writer guard and the drain report.

use std::fmt;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pipeline::handle::Pipeline;
use crate::pipeline::metrics::MetricsSnapshot;
use crate::pipeline::queue::deadline_after;

/// Owns the writer thread. Dropping it closes the queue and drains it within
/// the configured deadline; [`shutdown`](Self::shutdown) does the same and
/// returns the [`DrainReport`].
///
/// Events logged after shutdown began are counted as dropped (`shutdown`),
/// never a panic. Nothing accepted into the queue is lost by a shutdown that
/// meets its deadline; what a missed deadline leaves behind is counted.
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::pipeline::Pipeline;
/// use fapilog_core::sink::NullSink;
/// use fapilog_core::format::JsonFormat;
/// use std::time::Duration;
///
/// let (pipeline, guard) = Pipeline::builder().sink(NullSink::new(), JsonFormat::new()).build()?;
/// let log = pipeline.logger();
/// for _ in 0..1000 {
///     log.info("tick");
/// }
/// let report = guard.shutdown(Duration::from_secs(5));
/// assert_eq!((report.written, report.undelivered, report.timed_out), (1000, 0, false));
/// log.info("too late"); // counted, not written
/// assert_eq!(pipeline.metrics().dropped.shutdown, 1);
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard shuts the pipeline down at once"]
pub struct WriterGuard {
    pipeline: Pipeline,
    thread: Option<JoinHandle<()>>,
    drain_deadline: Duration,
}

impl WriterGuard {
    pub(crate) fn new(
        pipeline: Pipeline,
        thread: JoinHandle<()>,
        drain_deadline: Duration,
    ) -> Self {
        WriterGuard {
            pipeline,
            thread: Some(thread),
            drain_deadline,
        }
    }

    /// The pipeline this guard drains.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Closes the queue, writes everything in it, flushes every sink, and stops
    /// the writer, waiting at most `deadline` (`Duration::MAX`: no deadline).
    pub fn shutdown(mut self, deadline: Duration) -> DrainReport {
        self.drain(deadline)
    }

    fn drain(&mut self, deadline: Duration) -> DrainReport {
        let started = Instant::now();
        let queue = &self.pipeline.shared.queue;
        let before = self.pipeline.metrics();
        queue.close();
        let until = deadline_after(started, deadline);
        let finished = queue.wait_writer_done(until) && queue.wait_blocked_settled(until);
        if finished {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        } else {
            queue.abandon();
            // The writer is stuck in a sink; leave it detached rather than hang.
            self.thread = None;
        }
        let metrics = self.pipeline.metrics();
        DrainReport {
            written: metrics.written,
            dropped: metrics.dropped.total(),
            failed: metrics.failed,
            undelivered: metrics.in_flight(),
            drained: metrics.written.saturating_sub(before.written),
            elapsed: started.elapsed(),
            timed_out: !finished,
            metrics,
        }
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.drain(self.drain_deadline);
        }
    }
}

impl fmt::Debug for WriterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterGuard")
            .field("running", &self.thread.is_some())
            .field("drain_deadline", &self.drain_deadline)
            .finish()
    }
}

/// What a drain achieved; the counts are the pipeline's lifetime totals.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DrainReport {
    /// Events every sink accepted.
    pub written: u64,
    /// Events dropped, all reasons.
    pub dropped: u64,
    /// Events a sink failed to accept.
    pub failed: u64,
    /// Events still being written when the deadline passed (0 unless `timed_out`).
    pub undelivered: u64,
    /// Events written during the drain itself.
    pub drained: u64,
    /// How long the drain took.
    pub elapsed: Duration,
    /// Whether the deadline passed before the writer finished.
    pub timed_out: bool,
    /// The final counters.
    pub metrics: MetricsSnapshot,
}

impl fmt::Display for DrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drained {} events in {:.1?}: written {}, dropped {}",
            self.drained, self.elapsed, self.written, self.dropped,
        )?;
        let reasons = self.metrics.dropped.by_reason();
        let mut nonzero = reasons.iter().filter(|&&(_, n)| n > 0);
        if let Some((name, n)) = nonzero.next() {
            write!(f, " ({name} {n}")?;
            for (name, n) in nonzero {
                write!(f, ", {name} {n}")?;
            }
            f.write_str(")")?;
        }
        write!(
            f,
            ", failed {}, undelivered {}",
            self.failed, self.undelivered
        )?;
        if self.timed_out {
            f.write_str(" (deadline missed)")?;
        }
        Ok(())
    }
}
