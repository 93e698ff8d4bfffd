//! Exact accounting of every event, as a snapshot and as Prometheus text.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use crate::pipeline::queue::QueueCounts;

/// Counters the writer updates (once per batch) and the request layer adds to.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) written: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) loss_records: AtomicU64,
    pub(crate) dropped_sampling: AtomicU64,
    pub(crate) dropped_throttled: AtomicU64,
    pub(crate) dropped_aggregated: AtomicU64,
    pub(crate) dropped_filtered: AtomicU64,
    pub(crate) redaction_failures: AtomicU64,
    pub(crate) throttle_records: AtomicU64,
    pub(crate) sinks: Vec<SinkCounters>,
}

/// Fault counters of one sink.
#[derive(Debug, Default)]
pub(crate) struct SinkCounters {
    pub(crate) name: String,
    pub(crate) errors: AtomicU64,
    pub(crate) panics: AtomicU64,
    pub(crate) events_failed: AtomicU64,
}

impl SinkCounters {
    pub(crate) fn new(name: String) -> Self {
        SinkCounters {
            name,
            ..SinkCounters::default()
        }
    }
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// A counter kept by a component outside the core (such as the Axum layer's
/// request counters), reported in the same snapshot and Prometheus text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtraCounter {
    /// Prometheus metric name, e.g. `fapilog_requests_kept_total`. Readings
    /// of one name from several sources are summed. A name that is not a
    /// metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or that the core already
    /// uses, is left out of the Prometheus text with a `# fapilog:` comment
    /// saying why, rather than make a scraper reject the whole text.
    pub name: &'static str,
    /// One-line description.
    pub help: &'static str,
    /// The value.
    pub value: u64,
}

impl ExtraCounter {
    /// A counter reading.
    pub fn new(name: &'static str, help: &'static str, value: u64) -> Self {
        ExtraCounter { name, help, value }
    }
}

/// A source of [`ExtraCounter`]s, registered with
/// [`Pipeline::register_metrics`](crate::Pipeline::register_metrics).
pub trait MetricsSource: Send + Sync + fmt::Debug + 'static {
    /// Appends the current value of each counter to `out`.
    fn collect(&self, out: &mut Vec<ExtraCounter>);
}

/// Events that were offered but not written, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DroppedCounts {
    /// Evicted or refused because the queue was full.
    pub overflow: u64,
    /// Refused after waiting the whole `Block` timeout.
    pub block_timeout: u64,
    /// Logged after shutdown began.
    pub shutdown: u64,
    /// Still queued when the drain deadline passed.
    pub deadline: u64,
    /// Discarded by request sampling.
    pub sampling: u64,
    /// Suppressed by throttling.
    pub throttled: u64,
    /// Folded into an aggregated record (which itself counts as written, and
    /// whose `count` includes them).
    pub aggregated: u64,
    /// Discarded by a custom processor.
    pub filtered: u64,
    /// Submitted by the pipeline's own writer thread (a sink, or a library a
    /// sink calls, logging through a bridge): written, such an event would be
    /// logged again with every batch.
    pub reentrant: u64,
}

impl DroppedCounts {
    /// All dropped events.
    pub fn total(&self) -> u64 {
        self.by_reason().iter().map(|(_, n)| n).sum()
    }

    /// Each reason's name (as in the Prometheus `reason` label) and count.
    ///
    /// ```
    /// use fapilog_core::pipeline::Pipeline;
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build().unwrap();
    /// let dropped = pipeline.metrics().dropped;
    /// assert!(dropped.by_reason().iter().all(|&(_, n)| n == 0));
    /// assert_eq!(dropped.by_reason()[0].0, "overflow");
    /// ```
    pub fn by_reason(&self) -> [(&'static str, u64); 9] {
        [
            ("overflow", self.overflow),
            ("block_timeout", self.block_timeout),
            ("shutdown", self.shutdown),
            ("deadline", self.deadline),
            ("sampling", self.sampling),
            ("throttled", self.throttled),
            ("aggregated", self.aggregated),
            ("filtered", self.filtered),
            ("reentrant", self.reentrant),
        ]
    }
}

/// Fault counts of one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkMetrics {
    /// The sink's name (`Sink::name`), followed by `#2`, `#3`, … when an
    /// earlier sink of the pipeline has the same name.
    pub name: String,
    /// Batches whose write returned an error.
    pub errors: u64,
    /// Batches whose write or encoding panicked.
    pub panics: u64,
    /// Events this sink did not receive because of those faults.
    pub events_failed: u64,
}

/// A point-in-time reading of a pipeline's counters.
///
/// Accounting is exact: once the pipeline is flushed or drained,
/// `submitted == written + dropped.total() + failed`. While events are in
/// the queue or being written, the difference is [`in_flight`](Self::in_flight).
/// An event counts as `written` when every sink accepted it and as `failed`
/// when at least one did not; [`sinks`](Self::sinks) says which. With the
/// `prometheus` feature, `to_prometheus` gives the same counters as
/// Prometheus text.
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::pipeline::Pipeline;
/// use fapilog_core::sink::NullSink;
/// use fapilog_core::format::JsonFormat;
///
/// let (pipeline, guard) = Pipeline::builder().sink(NullSink::new(), JsonFormat::new()).build()?;
/// pipeline.logger().info("hello");
/// pipeline.flush();
/// let m = pipeline.metrics();
/// assert_eq!((m.submitted, m.written, m.in_flight()), (1, 1, 0));
/// assert!(m.is_balanced());
/// # drop(guard); Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Events offered to the pipeline (that passed the level gate).
    pub submitted: u64,
    /// Events every sink accepted.
    pub written: u64,
    /// Events dropped, by reason.
    pub dropped: DroppedCounts,
    /// Events at least one sink failed to accept.
    pub failed: u64,
    /// Events in the queue now.
    pub queue_depth: usize,
    /// The most events the queue has held at once.
    pub queue_high_water: usize,
    /// The queue's capacity.
    pub queue_capacity: usize,
    /// Batches the writer has written.
    pub batches: u64,
    /// In-band WARN records the writer emitted to report losses.
    pub loss_records: u64,
    /// Records throttling wrote itself (a key starts or stops being throttled).
    pub throttle_records: u64,
    /// Fields dropped because they could not be redacted (fail closed).
    pub redaction_failures: u64,
    /// Per-sink fault counts.
    pub sinks: Vec<SinkMetrics>,
    /// Counters from registered [`MetricsSource`]s; same-named counters are summed.
    pub extra: Vec<ExtraCounter>,
}

impl MetricsSnapshot {
    pub(crate) fn read(
        counters: &Counters,
        queue: impl FnOnce() -> QueueCounts,
        capacity: usize,
        sources: &[Arc<dyn MetricsSource>],
    ) -> Self {
        // Writer-side counters first: whatever they count was submitted before,
        // so `in_flight` never goes negative.
        let written = get(&counters.written);
        let failed = get(&counters.failed);
        let sampling = get(&counters.dropped_sampling);
        let throttled = get(&counters.dropped_throttled);
        let aggregated = get(&counters.dropped_aggregated);
        let filtered = get(&counters.dropped_filtered);
        let throttle_records = get(&counters.throttle_records);
        let redaction_failures = get(&counters.redaction_failures);
        let batches = get(&counters.batches);
        let loss_records = get(&counters.loss_records);
        let sinks = counters
            .sinks
            .iter()
            .map(|s| SinkMetrics {
                name: s.name.clone(),
                errors: get(&s.errors),
                panics: get(&s.panics),
                events_failed: get(&s.events_failed),
            })
            .collect();
        let q = queue();
        let mut extra: Vec<ExtraCounter> = Vec::new();
        let mut reading = Vec::new();
        for source in sources {
            reading.clear();
            source.collect(&mut reading);
            for c in reading.drain(..) {
                match extra.iter_mut().find(|e| e.name == c.name) {
                    Some(e) => e.value += c.value,
                    None => extra.push(c),
                }
            }
        }
        MetricsSnapshot {
            submitted: q.submitted + sampling,
            written,
            dropped: DroppedCounts {
                overflow: q.dropped_overflow,
                block_timeout: q.dropped_block_timeout,
                shutdown: q.dropped_shutdown,
                deadline: q.dropped_deadline,
                sampling,
                throttled,
                aggregated,
                filtered,
                reentrant: q.dropped_reentrant,
            },
            failed,
            queue_depth: q.depth,
            queue_high_water: q.high_water,
            queue_capacity: capacity,
            batches,
            loss_records,
            throttle_records,
            redaction_failures,
            sinks,
            extra,
        }
    }

    /// Events submitted but not yet written, dropped or failed.
    pub fn in_flight(&self) -> u64 {
        self.submitted
            .saturating_sub(self.written + self.dropped.total() + self.failed)
    }

    /// Whether `submitted == written + dropped + failed` holds exactly.
    pub fn is_balanced(&self) -> bool {
        self.submitted == self.written + self.dropped.total() + self.failed
    }
}

/// A snapshot with a little of everything, for tests: 12 submitted, 7
/// written, 5 dropped (overflow 1, sampling 2, throttled 2), one redaction
/// failure, a sink named `sink` with one error, and `x_requests_total` = 5
/// from each of `sources` request sources.
#[cfg(test)]
pub(crate) fn sample_snapshot(sink: &str, sources: usize) -> MetricsSnapshot {
    let counters = Counters {
        sinks: vec![SinkCounters::new(sink.into())],
        ..Counters::default()
    };
    add(&counters.written, 7);
    add(&counters.dropped_sampling, 2);
    add(&counters.dropped_throttled, 2);
    add(&counters.redaction_failures, 1);
    add(&counters.sinks[0].errors, 1);
    let q = QueueCounts {
        submitted: 10,
        dropped_overflow: 1,
        ..QueueCounts::default()
    };
    #[derive(Debug)]
    struct Requests;
    impl MetricsSource for Requests {
        fn collect(&self, out: &mut Vec<ExtraCounter>) {
            out.push(ExtraCounter::new("x_requests_total", "Requests.", 5));
        }
    }
    let sources: Vec<Arc<dyn MetricsSource>> = (0..sources)
        .map(|_| Arc::new(Requests) as Arc<dyn MetricsSource>)
        .collect();
    MetricsSnapshot::read(&counters, || q, 64, &sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_balances_and_sums_extra_readings_by_name() {
        let m = sample_snapshot("memory", 2);
        assert_eq!(m.submitted, 12);
        assert_eq!(m.in_flight(), 0);
        assert_eq!((m.dropped.throttled, m.redaction_failures), (2, 1));
        assert_eq!(m.sinks[0].errors, 1);
        assert!(m.is_balanced());
        assert_eq!(
            m.extra,
            [ExtraCounter::new("x_requests_total", "Requests.", 10)]
        );
    }
}
