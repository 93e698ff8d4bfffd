//! `Pipeline`: the cheap, cloneable handle that loggers and bridges submit to.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use crate::event::RawEvent;
use crate::filter::LevelDirectives;
use crate::level::{AtomicLevelFilter, Level, LevelFilter};
use crate::logger::Logger;
use crate::pipeline::builder::PipelineBuilder;
use crate::pipeline::limits::EventLimits;
use crate::pipeline::metrics::{add, Counters, MetricsSnapshot, MetricsSource};
use crate::pipeline::queue::Queue;

/// How long [`Pipeline::flush`] waits at most.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// The level gate, alone on its cache line: every call reads it, and the
/// queue's lock next to it would otherwise be written by every call.
///
/// `gate` holds the most verbose level of all directives; `has_targets` says
/// whether an event that passes it must also look its target up.
#[derive(Debug)]
#[repr(align(64))]
pub(crate) struct LevelLine {
    pub(crate) gate: AtomicLevelFilter,
    pub(crate) has_targets: AtomicBool,
    /// Whether enabled calls capture the caller's thread name (a thread-local
    /// read, ~6 ns), because the `thread.name` enricher is on.
    pub(crate) thread_names: bool,
}

impl LevelLine {
    pub(crate) fn new(directives: &LevelDirectives, thread_names: bool) -> Self {
        LevelLine {
            gate: AtomicLevelFilter::new(directives.most_verbose()),
            has_targets: AtomicBool::new(directives.has_targets()),
            thread_names,
        }
    }
}

#[inline(never)]
fn current_thread_tag() -> u32 {
    crate::enrich::thread::current()
}

/// State shared by the handle, every logger and the writer thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) level: LevelLine,
    pub(crate) directives: RwLock<LevelDirectives>,
    pub(crate) queue: Queue,
    pub(crate) limits: EventLimits,
    pub(crate) counters: Counters,
    pub(crate) sources: Mutex<Sources>,
}

/// Counters kept outside the pipeline, reported with its own.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    list: Vec<Arc<dyn MetricsSource>>,
    /// Those made by [`Pipeline::metrics_source`], one per type.
    by_type: Vec<Arc<dyn Any + Send + Sync>>,
}

/// A running pipeline: a bounded queue and the writer thread behind it.
///
/// Cloning is cheap (an `Arc`). Build one with [`Pipeline::builder`]; the
/// [`WriterGuard`](crate::pipeline::WriterGuard) returned beside it owns the
/// writer and drains it when dropped.
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::pipeline::Pipeline;
/// use fapilog_core::{info, Level, LevelFilter};
///
/// let (pipeline, guard) = Pipeline::builder().build()?; // JSON to stdout
/// let log = pipeline.logger();
/// info!(log, "order created", order_id = 42u64);
/// pipeline.set_level(LevelFilter::from(Level::Warn));
/// assert!(!log.enabled(Level::Info));
/// let report = guard.shutdown(std::time::Duration::from_secs(5));
/// assert_eq!(report.written, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) shared: Arc<Shared>,
}

impl Pipeline {
    /// A builder with every setting at its default.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// A pipeline that accepts nothing: its level is OFF and its queue closed.
    /// A stand-in where a pipeline is needed but none could be started.
    pub fn closed() -> Pipeline {
        PipelineBuilder::closed()
    }

    /// A logger with no bound context that submits to this pipeline.
    pub fn logger(&self) -> Logger {
        Logger::new(self.clone())
    }

    /// Whether an event at `level` without a target would be logged (the
    /// default directive decides). One relaxed atomic load when it is refused.
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        self.enabled_for(level, None)
    }

    /// Whether an event at `level` from `target` would be logged.
    ///
    /// A level below every directive is refused by one relaxed atomic load;
    /// only when target directives exist is the target looked up.
    #[inline(always)]
    pub fn enabled_for(&self, level: Level, target: Option<&str>) -> bool {
        let line = &self.shared.level;
        line.gate.allows(level)
            && (!line.has_targets.load(Ordering::Relaxed) || self.target_allows(level, target))
    }

    /// The caller's thread tag when `thread.name` is written, else 0. The
    /// thread-local read is kept out of line: inlined, its code slowed every
    /// enabled call by several nanoseconds even when `thread.name` was off.
    #[inline(always)]
    pub(crate) fn thread_tag(&self) -> u32 {
        if self.shared.level.thread_names {
            current_thread_tag()
        } else {
            0
        }
    }

    /// The level gate alone: whether any directive lets `level` through.
    #[inline(always)]
    pub(crate) fn gate_allows(&self, level: Level) -> bool {
        self.shared.level.gate.allows(level)
    }

    #[cold]
    #[inline(never)]
    fn target_allows(&self, level: Level, target: Option<&str>) -> bool {
        self.shared
            .directives
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .enabled(level, target)
    }

    /// The default level filter (for targets no directive names).
    pub fn level(&self) -> LevelFilter {
        self.directives().default_level()
    }

    /// Changes the default level filter, keeping target directives; takes
    /// effect at once for every logger.
    pub fn set_level(&self, filter: LevelFilter) {
        self.update_directives(|d| d.with_default(filter));
    }

    /// The current level directives.
    pub fn directives(&self) -> LevelDirectives {
        self.shared
            .directives
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the level directives (default and per-target); takes effect at
    /// once for every logger.
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use fapilog_core::{Level, LevelDirectives, Pipeline};
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build()?;
    /// pipeline.set_directives(LevelDirectives::parse("warn,my_app::db=debug")?);
    /// assert!(pipeline.enabled_for(Level::Debug, Some("my_app::db")));
    /// assert!(!pipeline.enabled_for(Level::Info, Some("my_app::web")));
    /// # Ok(()) }
    /// ```
    pub fn set_directives(&self, directives: LevelDirectives) {
        self.update_directives(|_| directives);
    }

    fn update_directives(&self, change: impl FnOnce(LevelDirectives) -> LevelDirectives) {
        let mut current = self
            .shared
            .directives
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = change(std::mem::take(&mut *current));
        let line = &self.shared.level;
        // Under the write lock: the gate and the flag change together for writers,
        // and a reader racing them sees either the old or the new rules per event.
        line.has_targets
            .store(next.has_targets(), Ordering::Relaxed);
        line.gate.set(next.most_verbose());
        *current = next;
    }

    /// Offers an event to the queue. Does not check the level gate nor apply
    /// the capture limits: callers do ([`Logger::submit`] does both).
    ///
    /// Never panics and never returns an error; what cannot be queued is counted.
    /// An event submitted on this pipeline's own writer thread (by a sink) is
    /// refused and counted as `dropped.reentrant`.
    #[inline]
    pub fn submit(&self, event: RawEvent) {
        self.shared.queue.push(event);
    }

    /// Applies the capture limits (string size, field count) to an event before it is queued or held.
    #[inline]
    pub(crate) fn limit(&self, event: &mut RawEvent) {
        self.shared.limits.apply(event);
    }

    /// Counts `n` events discarded by request sampling (they count as submitted and dropped).
    pub fn count_sampled_out(&self, n: u64) {
        add(&self.shared.counters.dropped_sampling, n);
    }

    /// Blocks until every event queued before the call is written and the
    /// sinks are flushed, for at most [`DEFAULT_FLUSH_TIMEOUT`]. Returns whether it finished.
    ///
    /// An event whose caller is still waiting for room under
    /// [`OverflowPolicy::Block`](crate::pipeline::OverflowPolicy::Block) is
    /// not queued yet (though counted as submitted): it is not waited for.
    ///
    /// Events held by a processor (an aggregation group whose window is still
    /// open) are written out too, so a flush ends their window early.
    pub fn flush(&self) -> bool {
        self.flush_timeout(DEFAULT_FLUSH_TIMEOUT)
    }

    /// Like [`flush`](Self::flush), waiting at most `timeout`
    /// (`Duration::MAX`: no deadline). On this
    /// pipeline's own writer thread (a sink flushing it) returns `false` at
    /// once: the writer would wait for itself.
    pub fn flush_timeout(&self, timeout: Duration) -> bool {
        self.shared.queue.flush(timeout)
    }

    /// A snapshot of the pipeline's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        let shared = &self.shared;
        let sources = shared
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .list
            .clone();
        MetricsSnapshot::read(
            &shared.counters,
            || shared.queue.counts(),
            shared.queue.capacity(),
            &sources,
        )
    }

    /// Adds counters kept elsewhere (for example by the Axum layer) to this
    /// pipeline's snapshot and Prometheus text.
    pub fn register_metrics(&self, source: Arc<dyn MetricsSource>) {
        self.sources().list.push(source);
    }

    /// This pipeline's one `T`: made and registered as a metrics source
    /// the first time, the same counters after. For counters that everything
    /// built on a pipeline adds to (each Axum layer), so that building many
    /// does not add a source each.
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use fapilog_core::pipeline::{ExtraCounter, MetricsSource, Pipeline};
    ///
    /// #[derive(Debug, Default)]
    /// struct Jobs(AtomicU64);
    ///
    /// impl MetricsSource for Jobs {
    ///     fn collect(&self, out: &mut Vec<ExtraCounter>) {
    ///         let n = self.0.load(Ordering::Relaxed);
    ///         out.push(ExtraCounter::new("jobs_total", "Jobs run.", n));
    ///     }
    /// }
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build()?;
    /// let a = pipeline.metrics_source::<Jobs>();
    /// let b = pipeline.metrics_source::<Jobs>();
    /// assert!(Arc::ptr_eq(&a, &b));
    /// a.0.fetch_add(2, Ordering::Relaxed);
    /// assert_eq!(pipeline.metrics().extra[0].value, 2);
    /// # Ok(()) }
    /// ```
    pub fn metrics_source<T: MetricsSource + Default>(&self) -> Arc<T> {
        let mut sources = self.sources();
        let found = sources
            .by_type
            .iter()
            .find_map(|s| Arc::clone(s).downcast::<T>().ok());
        if let Some(found) = found {
            return found;
        }
        let made = Arc::new(T::default());
        sources.list.push(made.clone());
        sources.by_type.push(made.clone());
        made
    }

    fn sources(&self) -> MutexGuard<'_, Sources> {
        self.shared
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `other` is a handle to the same pipeline.
    pub fn same_as(&self, other: &Pipeline) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("level", &self.level())
            .field("capacity", &self.shared.queue.capacity())
            .finish_non_exhaustive()
    }
}
