//! `PipelineBuilder`: every setting of a pipeline, checked at `build`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ConfigError;
use crate::format::{Format, JsonFormat};
use crate::level::{AtomicLevelFilter, Level, LevelFilter};
use crate::pipeline::handle::{LevelLine, Pipeline, Shared};
use crate::pipeline::metrics::{Counters, SinkCounters};
use crate::pipeline::overflow::OverflowPolicy;
use crate::pipeline::queue::Queue;
use crate::pipeline::shutdown::WriterGuard;
use crate::pipeline::writer::{Output, Writer};
use crate::sink::{Sink, StdoutSink};

/// Default queue capacity, in events.
pub const DEFAULT_CAPACITY: usize = 16_384;
/// Largest queue capacity accepted. The queue pre-allocates two buffers of
/// `capacity` events (a few hundred bytes each), so memory stays bounded.
pub const MAX_CAPACITY: usize = 1 << 20;
/// Default batch size: the queue depth at which a lingering writer is woken.
pub const DEFAULT_BATCH_SIZE: usize = 1024;
/// Default flush interval: how long the writer lingers for a fuller batch.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(10);
/// Default deadline for the drain when the guard is dropped.
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(5);
/// Default level filter.
pub const DEFAULT_LEVEL: Level = Level::Info;
/// Longest accepted flush interval, `Block` timeout and drain deadline.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// Builds a [`Pipeline`] and its [`WriterGuard`].
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::format::{JsonFormat, LogfmtFormat};
/// use fapilog_core::pipeline::{OverflowPolicy, Pipeline};
/// use fapilog_core::sink::{FileSink, StdoutSink};
/// use fapilog_core::Level;
///
/// let dir = tempfile::tempdir().unwrap();
/// let (pipeline, guard) = Pipeline::builder()
///     .level(Level::Debug)
///     .capacity(8192)
///     .overflow(OverflowPolicy::DropNewest)
///     .sink(StdoutSink::new(), LogfmtFormat::new())
///     .sink(FileSink::builder(dir.path().join("app.log")).build()?, JsonFormat::new())
///     .build()?;
/// # drop(guard); drop(pipeline); Ok(()) }
/// ```
///
/// Mistakes are errors that name the setting:
///
/// ```
/// use fapilog_core::pipeline::Pipeline;
///
/// let err = Pipeline::builder().capacity(0).build().unwrap_err();
/// assert_eq!(err.setting(), "queue.capacity");
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct PipelineBuilder {
    level: LevelFilter,
    capacity: usize,
    batch_size: usize,
    flush_interval: Duration,
    overflow: OverflowPolicy,
    drain_deadline: Duration,
    thread_name: String,
    outputs: Vec<(Box<dyn Sink>, Box<dyn Format>)>,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            level: DEFAULT_LEVEL.into(),
            capacity: DEFAULT_CAPACITY,
            batch_size: DEFAULT_BATCH_SIZE,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            overflow: OverflowPolicy::default(),
            drain_deadline: DEFAULT_DRAIN_DEADLINE,
            thread_name: "fapilog-writer".to_owned(),
            outputs: Vec::new(),
        }
    }
}

impl PipelineBuilder {
    /// The minimum level written. Default: [`DEFAULT_LEVEL`] (INFO). Changeable later
    /// with [`Pipeline::set_level`].
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.level = level.into();
        self
    }

    /// How many events the queue holds. Default: [`DEFAULT_CAPACITY`]; 1..=[`MAX_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The queue depth that wakes a lingering writer. Default: [`DEFAULT_BATCH_SIZE`]
    /// (capped at the capacity); at least 1.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// How long the writer waits for a fuller batch before writing what it has.
    /// Default: [`DEFAULT_FLUSH_INTERVAL`]; at most [`MAX_WAIT`].
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// What happens when the queue is full. Default: [`OverflowPolicy::DropOldest`].
    pub fn overflow(mut self, policy: OverflowPolicy) -> Self {
        self.overflow = policy;
        self
    }

    /// How long dropping the guard may take to drain. Default: [`DEFAULT_DRAIN_DEADLINE`].
    pub fn drain_deadline(mut self, deadline: Duration) -> Self {
        self.drain_deadline = deadline;
        self
    }

    /// The writer thread's name. Default: `"fapilog-writer"`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Adds a sink and the format its lines are written in. Default: none, in
    /// which case `build` uses JSON to stdout.
    pub fn sink(mut self, sink: impl Sink, format: impl Format) -> Self {
        self.outputs.push((Box::new(sink), Box::new(format)));
        self
    }

    /// Adds an already boxed sink and format (for sinks chosen at run time).
    pub fn boxed_sink(mut self, sink: Box<dyn Sink>, format: Box<dyn Format>) -> Self {
        self.outputs.push((sink, format));
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            let reason = format!("must be between 1 and {MAX_CAPACITY}");
            return Err(ConfigError::invalid(
                "queue.capacity",
                self.capacity,
                reason,
            ));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::invalid(
                "queue.batch_size",
                0,
                "must be at least 1",
            ));
        }
        check_wait("writer.flush_interval", self.flush_interval, false)?;
        check_wait("shutdown.drain_deadline", self.drain_deadline, true)?;
        if let OverflowPolicy::Block { timeout } = self.overflow {
            check_wait("queue.overflow.timeout", timeout, false)?;
        }
        if self.thread_name.is_empty() || self.thread_name.contains('\0') {
            let reason = "must be non-empty and contain no NUL";
            return Err(ConfigError::invalid(
                "writer.thread_name",
                &self.thread_name,
                reason,
            ));
        }
        Ok(())
    }

    /// A pipeline that accepts nothing: its queue is closed from the start and
    /// every event is counted as dropped (`shutdown`). Used where a pipeline is
    /// required but the writer could not be started.
    pub(crate) fn closed() -> Pipeline {
        let shared = Arc::new(Shared {
            level: LevelLine(AtomicLevelFilter::new(LevelFilter::OFF)),
            queue: Queue::new(1, 1, OverflowPolicy::DropNewest),
            counters: Counters::default(),
            sources: Default::default(),
        });
        shared.queue.close();
        Pipeline { shared }
    }

    /// Checks every setting, starts the writer thread, and returns the pipeline and its guard.
    pub fn build(self) -> Result<(Pipeline, WriterGuard), ConfigError> {
        self.validate()?;
        let mut outputs = self.outputs;
        if outputs.is_empty() {
            outputs.push((Box::new(StdoutSink::new()), Box::new(JsonFormat::new())));
        }
        let counters = Counters {
            sinks: outputs
                .iter()
                .map(|(s, _)| SinkCounters::new(s.name()))
                .collect(),
            ..Counters::default()
        };
        let shared = Arc::new(Shared {
            level: LevelLine(AtomicLevelFilter::new(self.level)),
            queue: Queue::new(self.capacity, self.batch_size, self.overflow),
            counters,
            sources: Default::default(),
        });
        let outputs = outputs
            .into_iter()
            .map(|(s, f)| Output::new(s, f))
            .collect();
        let writer = Writer::new(Arc::clone(&shared), outputs, self.flush_interval);
        let thread = writer.spawn(&self.thread_name).map_err(|e| {
            ConfigError::unusable("writer.thread_name", "cannot start the writer thread", e)
        })?;
        let pipeline = Pipeline { shared };
        let guard = WriterGuard::new(pipeline.clone(), thread, self.drain_deadline);
        Ok((pipeline, guard))
    }
}

fn check_wait(setting: &'static str, value: Duration, allow_zero: bool) -> Result<(), ConfigError> {
    if value > MAX_WAIT || (!allow_zero && value.is_zero()) {
        let low = if allow_zero { "0s" } else { "more than 0s" };
        let reason = format!("must be {low} and at most {MAX_WAIT:?}");
        return Err(ConfigError::invalid(setting, format!("{value:?}"), reason));
    }
    Ok(())
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("level", &self.level)
            .field("capacity", &self.capacity)
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("overflow", &self.overflow)
            .field("drain_deadline", &self.drain_deadline)
            .field(
                "sinks",
                &self
                    .outputs
                    .iter()
                    .map(|(s, _)| s.name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
