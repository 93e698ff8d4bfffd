//! [`LogCapture`]: a private pipeline that writes every event into a [`MemorySink`].
//!
//! Each capture has its own queue, writer thread and sink, so tests running in
//! parallel never see each other's events. [`LogCapture::flush`] waits until
//! every event submitted before the call has reached the sink, then returns
//! the sink to query: no sleeps, no polling.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use fapilog_core::{info, Level};
//! use fapilog_testing::LogCapture;
//!
//! let capture = LogCapture::new()?;
//! let log = capture.logger().bind("service", "billing");
//! for n in 0..100u64 {
//!     info!(log, "tick", n);
//! }
//! let logs = capture.flush()?; // all 100 are in, exactly
//! assert_eq!(logs.count(), 100);
//! assert_eq!(logs.by_level(Level::Info)[99].field("n"), Some(&serde_json::json!(99)));
//! assert_eq!(logs.events()[0].field("service"), Some(&serde_json::json!("billing")));
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use fapilog_core::format::JsonFormat;
use fapilog_core::pipeline::{
    DrainReport, MetricsSnapshot, Pipeline, PipelineBuilder, WriterGuard, DEFAULT_FLUSH_TIMEOUT,
};
use fapilog_core::{ConfigError, Level, LevelFilter, Logger};

use crate::fault::{Faults, FaultySink};
use crate::memory_sink::MemorySink;

type PipelineConfig = Box<dyn FnOnce(PipelineBuilder) -> PipelineBuilder + Send>;

/// The level a capture accepts unless told otherwise: TRACE, so that every event is captured.
pub const DEFAULT_CAPTURE_LEVEL: Level = Level::Trace;

/// How long [`LogCapture::shutdown`] and dropping a capture wait for the writer to drain.
pub const DEFAULT_CAPTURE_DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// The pipeline did not finish writing within the flush timeout.
///
/// ```
/// use fapilog_testing::FlushError;
/// use std::time::Duration;
///
/// let err = FlushError::TimedOut(Duration::from_secs(30));
/// assert!(err.to_string().contains("30s"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushError {
    /// The writer had not written everything when the timeout passed (a sink
    /// slower than the timeout, or stuck).
    TimedOut(Duration),
    /// The blocking task that waited for the flush did not run to completion
    /// (the async runtime is shutting down).
    Interrupted,
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::TimedOut(t) => write!(f, "the log pipeline did not flush within {t:?}"),
            FlushError::Interrupted => f.write_str("the flush was interrupted by runtime shutdown"),
        }
    }
}

impl std::error::Error for FlushError {}

/// A private pipeline (JSON into a [`MemorySink`]), its writer, and the sink to read.
///
/// Dropping it drains the pipeline (within [`DEFAULT_CAPTURE_DRAIN_DEADLINE`]).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use fapilog_testing::LogCapture;
///
/// let capture = LogCapture::new()?;
/// capture.logger().warn("disk almost full");
/// assert_eq!(capture.flush()?.messages(), ["disk almost full"]);
/// let report = capture.shutdown();
/// assert_eq!((report.written, report.metrics.submitted), (1, 1));
/// # Ok(()) }
/// ```
pub struct LogCapture {
    pipeline: Pipeline,
    sink: MemorySink,
    guard: WriterGuard,
    flush_timeout: Duration,
}

impl LogCapture {
    /// A capture with every setting at its default: level TRACE, no faults.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the writer thread cannot be started.
    pub fn new() -> Result<LogCapture, ConfigError> {
        LogCapture::builder().build()
    }

    /// A builder with every setting at its default.
    pub fn builder() -> LogCaptureBuilder {
        LogCaptureBuilder::default()
    }

    /// A logger with no bound context on this capture's pipeline.
    pub fn logger(&self) -> Logger {
        self.pipeline.logger()
    }

    /// The capture's pipeline (to give to a `FapilogLayer`, a bridge, or your own code).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The sink, as it is now, without waiting for the writer.
    pub fn sink(&self) -> &MemorySink {
        &self.sink
    }

    /// Waits until every event submitted before the call has reached the sink,
    /// then returns the sink.
    ///
    /// Events an unsampled request is still holding are not submitted yet: they
    /// are, once the request's response has been produced.
    ///
    /// # Errors
    ///
    /// [`FlushError::TimedOut`] if the writer did not get there within the
    /// flush timeout ([`LogCaptureBuilder::flush_timeout`]).
    pub fn flush(&self) -> Result<&MemorySink, FlushError> {
        if self.pipeline.flush_timeout(self.flush_timeout) {
            Ok(&self.sink)
        } else {
            Err(FlushError::TimedOut(self.flush_timeout))
        }
    }

    /// [`flush`](Self::flush) for async code: the wait happens on Tokio's
    /// blocking pool, so the runtime's threads keep running.
    ///
    /// # Errors
    ///
    /// [`FlushError::TimedOut`] as for [`flush`](Self::flush);
    /// [`FlushError::Interrupted`] if the blocking task could not complete.
    pub async fn flush_async(&self) -> Result<&MemorySink, FlushError> {
        let pipeline = self.pipeline.clone();
        let timeout = self.flush_timeout;
        match tokio::task::spawn_blocking(move || pipeline.flush_timeout(timeout)).await {
            Ok(true) => Ok(&self.sink),
            Ok(false) => Err(FlushError::TimedOut(timeout)),
            Err(_) => Err(FlushError::Interrupted),
        }
    }

    /// The pipeline's counters now (flush first for settled numbers).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.pipeline.metrics()
    }

    /// Closes the pipeline, drains it into the sink and returns the report.
    pub fn shutdown(self) -> DrainReport {
        self.guard.shutdown(DEFAULT_CAPTURE_DRAIN_DEADLINE)
    }
}

impl fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCapture")
            .field("pipeline", &self.pipeline)
            .field("events", &self.sink.count())
            .field("flush_timeout", &self.flush_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`LogCapture`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use fapilog_core::pipeline::OverflowPolicy;
/// use fapilog_core::Level;
/// use fapilog_testing::{Faults, LogCapture};
///
/// let capture = LogCapture::builder()
///     .level(Level::Info)
///     .faults(Faults::new().fail_after(10))
///     .pipeline(|b| b.capacity(64).overflow(OverflowPolicy::DropNewest))
///     .build()?;
/// capture.logger().debug("below INFO: not captured");
/// assert_eq!(capture.flush()?.count(), 0);
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct LogCaptureBuilder {
    level: LevelFilter,
    faults: Faults,
    flush_timeout: Duration,
    configure: Option<PipelineConfig>,
}

impl Default for LogCaptureBuilder {
    fn default() -> Self {
        LogCaptureBuilder {
            level: DEFAULT_CAPTURE_LEVEL.into(),
            faults: Faults::new(),
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            configure: None,
        }
    }
}

impl LogCaptureBuilder {
    /// The minimum level captured. Default: [`DEFAULT_CAPTURE_LEVEL`] (TRACE).
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.level = level.into();
        self
    }

    /// Faults injected between the writer and the sink. Default: none.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// How long [`LogCapture::flush`] waits at most. Default:
    /// [`DEFAULT_FLUSH_TIMEOUT`] (30 s).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Adjusts the pipeline (capacity, overflow policy, batch size, extra
    /// sinks, drain deadline, …). Calls add up, in order. The level and the
    /// memory sink are set by the capture. Default: the pipeline defaults,
    /// with a drain deadline of [`DEFAULT_CAPTURE_DRAIN_DEADLINE`].
    pub fn pipeline(
        mut self,
        configure: impl FnOnce(PipelineBuilder) -> PipelineBuilder + Send + 'static,
    ) -> Self {
        self.configure = Some(match self.configure.take() {
            None => Box::new(configure),
            Some(before) => Box::new(move |b| configure(before(b))),
        });
        self
    }

    /// Starts the capture's pipeline.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting, from the pipeline's own checks.
    pub fn build(self) -> Result<LogCapture, ConfigError> {
        let sink = MemorySink::new();
        let mut builder = Pipeline::builder()
            .thread_name("fapilog-testing-writer")
            .drain_deadline(DEFAULT_CAPTURE_DRAIN_DEADLINE);
        if let Some(configure) = self.configure {
            builder = configure(builder);
        }
        builder = builder.level(self.level);
        builder = if self.faults.is_none() {
            builder.sink(sink.clone(), JsonFormat::new())
        } else {
            builder.sink(
                FaultySink::new(sink.clone(), self.faults),
                JsonFormat::new(),
            )
        };
        let (pipeline, guard) = builder.build()?;
        Ok(LogCapture {
            pipeline,
            sink,
            guard,
            flush_timeout: self.flush_timeout,
        })
    }
}

impl fmt::Debug for LogCaptureBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCaptureBuilder")
            .field("level", &self.level)
            .field("faults", &self.faults)
            .field("flush_timeout", &self.flush_timeout)
            .field("pipeline", &self.configure.as_ref().map(|_| "<closure>"))
            .finish()
    }
}
