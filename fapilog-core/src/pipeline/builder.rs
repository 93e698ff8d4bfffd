//! `PipelineBuilder`: every setting of a pipeline, checked at `build`.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::enrich::{Enricher, Enrichment};
use crate::error::ConfigError;
use crate::filter::LevelDirectives;
use crate::format::{Format, JsonFormat};
use crate::level::{Level, LevelFilter};
use crate::pipeline::handle::{LevelLine, Pipeline, Shared};
use crate::pipeline::limits::EventLimits;
use crate::pipeline::metrics::{Counters, SinkCounters};
use crate::pipeline::overflow::OverflowPolicy;
use crate::pipeline::queue::Queue;
use crate::pipeline::shutdown::WriterGuard;
use crate::pipeline::writer::{Output, Writer, WriterParts};
use crate::process::{Aggregator, Processor, Redactor, Stages, Throttle};
use crate::sink::{Sink, StdoutSink};

/// Default queue capacity, in events.
pub const DEFAULT_CAPACITY: usize = 16_384;
/// Largest queue capacity accepted. The queue pre-allocates two buffers of
/// `capacity` events (a few hundred bytes each), so memory stays bounded.
pub const MAX_CAPACITY: usize = 1 << 20;
/// Largest per-event field limit accepted ([`PipelineBuilder::max_fields`]).
pub const MAX_FIELDS: usize = 65_536;
/// Default batch size: how many events the writer waits for before it writes
/// (or the flush interval, whichever comes first).
///
/// Small enough that one writer run stays short (well under 100 µs at a few
/// hundred ns per event): on a machine with few cores, a long run holds a core
/// that the application or its clients need, and they stall behind it. Under
/// `benches/load.sh` on 2 cores, 256 served 9% more requests than 1,024.
pub const DEFAULT_BATCH_SIZE: usize = 256;
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
    directives: LevelDirectives,
    capacity: usize,
    batch_size: usize,
    flush_interval: Duration,
    overflow: OverflowPolicy,
    drain_deadline: Duration,
    thread_name: String,
    outputs: Vec<(Box<dyn Sink>, Box<dyn Format>)>,
    clock: Arc<dyn Clock>,
    enrichment: Enrichment,
    enrichers: Vec<Box<dyn Enricher>>,
    processors: Vec<Box<dyn Processor>>,
    redactor: Redactor,
    aggregator: Option<Aggregator>,
    throttle: Option<Throttle>,
    limits: EventLimits,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            directives: LevelDirectives::new(DEFAULT_LEVEL),
            capacity: DEFAULT_CAPACITY,
            batch_size: DEFAULT_BATCH_SIZE,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            overflow: OverflowPolicy::default(),
            drain_deadline: DEFAULT_DRAIN_DEADLINE,
            thread_name: "fapilog-writer".to_owned(),
            outputs: Vec::new(),
            clock: Arc::new(SystemClock),
            enrichment: Enrichment::new(),
            enrichers: Vec::new(),
            processors: Vec::new(),
            redactor: Redactor::new(),
            aggregator: None,
            throttle: None,
            limits: EventLimits::default(),
        }
    }
}

impl PipelineBuilder {
    /// The level for targets no directive names. Default: [`DEFAULT_LEVEL`]
    /// (INFO). Changeable later with [`Pipeline::set_level`].
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.directives = self.directives.with_default(level);
        self
    }

    /// The default level and per-target levels (replacing [`level`](Self::level)).
    /// Default: INFO for every target. Changeable later with
    /// [`Pipeline::set_directives`].
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use fapilog_core::{Level, LevelDirectives, Pipeline};
    ///
    /// let (pipeline, _guard) = Pipeline::builder()
    ///     .directives(LevelDirectives::parse("info,sqlx=warn,my_app::db=debug")?)
    ///     .build()?;
    /// assert!(!pipeline.enabled_for(Level::Info, Some("sqlx::query")));
    /// assert!(pipeline.enabled_for(Level::Debug, Some("my_app::db")));
    /// # Ok(()) }
    /// ```
    pub fn directives(mut self, directives: LevelDirectives) -> Self {
        self.directives = directives;
        self
    }

    /// The clock the writer's stages measure windows and refills with.
    /// Default: [`SystemClock`]. Tests inject a
    /// [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The built-in enrichers. Default: [`Enrichment::new`] (host name,
    /// process ID, Kubernetes fields when present; the thread name is off
    /// because capturing it costs every enabled call a thread-local read).
    pub fn enrichment(mut self, enrichment: Enrichment) -> Self {
        self.enrichment = enrichment;
        self
    }

    /// Adds an enricher of your own; enrichers run in the order added, on the
    /// writer thread, before the processors. Default: none.
    pub fn enricher(mut self, enricher: impl Enricher) -> Self {
        self.enrichers.push(Box::new(enricher));
        self
    }

    /// Adds a processor of your own; processors run in the order added, before
    /// aggregation, throttling and redaction. Default: none.
    pub fn processor(mut self, processor: impl Processor) -> Self {
        self.processors.push(Box::new(processor));
        self
    }

    /// The redaction rules, applied to every record before any sink.
    /// Default: [`Redactor::new`] (on); [`Redactor::disabled`] turns it off.
    pub fn redaction(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Aggregates repetitive logs of the targets the aggregator names.
    /// Default: no aggregation.
    pub fn aggregation(mut self, aggregator: Aggregator) -> Self {
        self.aggregator = Some(aggregator);
        self
    }

    /// Throttles events with a token bucket per key. Default: no throttling.
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// How many events the queue holds. Default: [`DEFAULT_CAPACITY`]; 1..=[`MAX_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How many events the writer waits for before it writes, unless the flush
    /// interval passes first. It times that wait from the recent event rate;
    /// a producer wakes it early only at twice this depth, or for an ERROR
    /// event, a flush or a full queue. Default: [`DEFAULT_BATCH_SIZE`]
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

    /// Cuts every string of an event (message, keys, string values, in lists
    /// and maps too, the error's message and chain) longer than `max` bytes when it is captured,
    /// before it is queued, ending it in `…[truncated N bytes]`. Default:
    /// [`DEFAULT_MAX_CAPTURE_BYTES`](crate::pipeline::DEFAULT_MAX_CAPTURE_BYTES). This bounds memory; each format also
    /// cuts strings for output (its own `max_string_bytes`, usually smaller),
    /// keeping the count of bytes cut from what was logged.
    pub fn max_string_bytes(mut self, max: usize) -> Self {
        self.limits.max_string_bytes = max;
        self
    }

    /// Keeps at most `max` fields of an event when it is captured; the rest
    /// are dropped and replaced by one field, [`FIELDS_TRUNCATED_KEY`](crate::pipeline::FIELDS_TRUNCATED_KEY)
    /// (`fields_truncated`), holding how many. All of an event's lists and
    /// maps, at any depth, together keep at most `max` elements too.
    /// Default: [`DEFAULT_MAX_FIELDS`](crate::pipeline::DEFAULT_MAX_FIELDS).
    pub fn max_fields(mut self, max: usize) -> Self {
        self.limits.max_fields = max;
        self
    }

    /// Adds an already boxed sink and format (for sinks chosen at run time).
    pub fn boxed_sink(mut self, sink: Box<dyn Sink>, format: Box<dyn Format>) -> Self {
        self.outputs.push((sink, format));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
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
        if self.limits.max_string_bytes == 0 {
            return Err(ConfigError::invalid(
                "limits.max_string_bytes",
                0,
                "must be at least 1",
            ));
        }
        if !(1..=MAX_FIELDS).contains(&self.limits.max_fields) {
            let reason = format!("must be between 1 and {MAX_FIELDS}");
            return Err(ConfigError::invalid(
                "limits.max_fields",
                self.limits.max_fields,
                reason,
            ));
        }
        check_wait("writer.flush_interval_ms", self.flush_interval, false)?;
        check_wait("writer.drain_deadline_ms", self.drain_deadline, true)?;
        if let OverflowPolicy::Block { timeout } = self.overflow {
            check_wait("queue.block_timeout_ms", timeout, false)?;
        }
        if let Some(aggregator) = &self.aggregator {
            aggregator.validate()?;
        }
        if let Some(throttle) = &self.throttle {
            throttle.validate()?;
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

    /// A pipeline that accepts nothing: its level is OFF, so log calls return
    /// at once and count nothing, and its queue is closed from the start (an
    /// event submitted anyway is counted as dropped, `shutdown`). Used where a
    /// pipeline is required but the writer could not be started.
    pub(crate) fn closed() -> Pipeline {
        let directives = LevelDirectives::new(LevelFilter::OFF);
        let shared = Arc::new(Shared {
            level: LevelLine::new(&directives, false),
            directives: RwLock::new(directives),
            queue: Queue::new(1, 1, OverflowPolicy::DropNewest),
            limits: EventLimits::default(),
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
            sinks: unique_names(outputs.iter().map(|(s, _)| s.name()))
                .into_iter()
                .map(SinkCounters::new)
                .collect(),
            ..Counters::default()
        };
        let shared = Arc::new(Shared {
            level: LevelLine::new(&self.directives, self.enrichment.writes_thread_name()),
            directives: RwLock::new(self.directives),
            queue: Queue::new(self.capacity, self.batch_size, self.overflow),
            limits: self.limits,
            counters,
            sources: Default::default(),
        });
        let outputs = outputs
            .into_iter()
            .map(|(s, f)| Output::new(s, f))
            .collect();
        let mut processors = self.processors;
        if let Some(aggregator) = self.aggregator {
            processors.push(Box::new(aggregator));
        }
        if let Some(throttle) = self.throttle {
            processors.push(Box::new(throttle));
        }
        let parts = WriterParts {
            linger: self.flush_interval,
            stages: Stages::new(self.enrichers, processors, self.redactor),
            clock: self.clock,
            enrichment: self.enrichment.resolve(),
            thread_names: self.enrichment.writes_thread_name(),
        };
        let writer = Writer::new(Arc::clone(&shared), outputs, parts);
        let thread = writer.spawn(&self.thread_name).map_err(|e| {
            ConfigError::unusable("writer.thread_name", "cannot start the writer thread", e)
        })?;
        let pipeline = Pipeline { shared };
        let guard = WriterGuard::new(pipeline.clone(), thread, self.drain_deadline);
        Ok((pipeline, guard))
    }
}

/// Each name, with `#2`, `#3`, … added to one already taken, so that every
/// sink's counters (and Prometheus series) can be told apart.
fn unique_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for base in names {
        let mut name = base.clone();
        let mut n = 1;
        while unique.contains(&name) {
            n += 1;
            name = format!("{base}#{n}");
        }
        unique.push(name);
    }
    unique
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
            .field("directives", &self.directives.to_string())
            .field("capacity", &self.capacity)
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("overflow", &self.overflow)
            .field("drain_deadline", &self.drain_deadline)
            .field("limits", &self.limits)
            .field(
                "sinks",
                &self
                    .outputs
                    .iter()
                    .map(|(s, _)| s.name())
                    .collect::<Vec<_>>(),
            )
            .field("enrichment", &self.enrichment)
            .field("enrichers", &self.enrichers.len())
            .field(
                "processors",
                &self.processors.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("redaction", &self.redactor)
            .field("aggregation", &self.aggregator)
            .field("throttle", &self.throttle)
            .finish()
    }
}
