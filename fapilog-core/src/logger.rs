//! `Logger`: the handle application code logs through.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::context::{Context, CorrelationText};
use crate::event::{CapturedError, Message, RawEvent};
use crate::gate::EventGate;
use crate::level::Level;
use crate::pipeline::Pipeline;
use crate::value::{Field, IntoValue, Key};

/// Logs into a pipeline, with bound context.
///
/// Cloning is one `Arc` increment. [`bind`](Self::bind) and
/// [`with_fields`](Self::with_fields) return a new logger and leave this one
/// as it was; every event keeps the context bound at its call.
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::pipeline::Pipeline;
/// use fapilog_core::{info, Level};
///
/// let (pipeline, _guard) = Pipeline::builder().build()?;
/// let root = pipeline.logger();
/// let log = root.bind("user_id", 7u64);
/// info!(log, "signed in", method = "passkey");
/// log.event(Level::Warn, "slow login").field("ms", 1200u64).emit();
/// assert!(root.context().is_none()); // unchanged
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Logger {
    inner: Arc<LoggerInner>,
}

struct LoggerInner {
    pipeline: Pipeline,
    context: Option<Arc<Context>>,
    gate: Option<Arc<dyn EventGate>>,
}

impl Logger {
    pub(crate) fn new(pipeline: Pipeline) -> Self {
        Logger {
            inner: Arc::new(LoggerInner {
                pipeline,
                context: None,
                gate: None,
            }),
        }
    }

    fn with_new_context(&self, context: Context) -> Logger {
        Logger {
            inner: Arc::new(LoggerInner {
                pipeline: self.inner.pipeline.clone(),
                context: Some(Arc::new(context)),
                gate: self.inner.gate.clone(),
            }),
        }
    }

    fn context_or_empty(&self) -> Context {
        self.inner.context.as_deref().cloned().unwrap_or_default()
    }

    /// Whether events at `level` without a target would be logged: one
    /// relaxed atomic load when they would not.
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        self.inner.pipeline.enabled(level)
    }

    /// Whether events at `level` from `target` would be logged (per-target
    /// [`LevelDirectives`](crate::LevelDirectives)): one relaxed atomic load
    /// when no directive lets `level` through. The macros call this with
    /// `module_path!()`.
    #[inline(always)]
    pub fn enabled_for(&self, level: Level, target: &str) -> bool {
        self.inner.pipeline.enabled_for(level, Some(target))
    }

    /// A new logger with `key = value` added to its context (replacing a field of the same key).
    #[must_use]
    pub fn bind(&self, key: impl Into<Key>, value: impl IntoValue) -> Logger {
        self.with_new_context(self.context_or_empty().with_field(Field::new(key, value)))
    }

    /// A new logger with all of `fields` added to its context.
    #[must_use]
    pub fn with_fields(&self, fields: impl IntoIterator<Item = Field>) -> Logger {
        let context = fields
            .into_iter()
            .fold(self.context_or_empty(), Context::with_field);
        self.with_new_context(context)
    }

    /// A new logger whose events carry `id` as their `correlation_id`.
    #[must_use]
    pub fn with_correlation_id(&self, id: impl AsRef<str>) -> Logger {
        self.with_new_context(self.context_or_empty().with_correlation_id(id))
    }

    /// A new logger on the same pipeline with `context` as its whole context.
    #[must_use]
    pub fn with_context(&self, context: Context) -> Logger {
        self.with_new_context(context)
    }

    /// A new logger whose events go through `gate` instead of straight to the pipeline.
    #[must_use]
    pub fn with_gate(&self, gate: Arc<dyn EventGate>) -> Logger {
        Logger {
            inner: Arc::new(LoggerInner {
                pipeline: self.inner.pipeline.clone(),
                context: self.inner.context.clone(),
                gate: Some(gate),
            }),
        }
    }

    /// A new logger on the same pipeline with `context` as its whole context
    /// and `gate` deciding each event, for per-request loggers. Given an
    /// `Arc<Context>` it allocates only the logger (a caller may recycle contexts).
    #[must_use]
    pub fn scoped(&self, context: impl Into<Arc<Context>>, gate: Arc<dyn EventGate>) -> Logger {
        Logger {
            inner: Arc::new(LoggerInner {
                pipeline: self.inner.pipeline.clone(),
                context: Some(context.into()),
                gate: Some(gate),
            }),
        }
    }

    /// Makes `self`, a per-request logger made by [`scoped`](Self::scoped)
    /// and no longer needed, into `root.scoped(context, gate)` where the
    /// context holds only `correlation_id`: in place, without allocating.
    /// For a caller that recycles its per-request loggers.
    ///
    /// It succeeds only when nothing else can see the change: no clone of
    /// `self` is left, and no event still on its way to the writer holds its
    /// context. Otherwise nothing changes and `gate` is handed back.
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use std::sync::Arc;
    /// use fapilog_core::{Context, CorrelationText, EventGate, Pipeline, RawEvent};
    ///
    /// #[derive(Debug)]
    /// struct Pass;
    /// impl EventGate for Pass {
    ///     fn route(&self, event: RawEvent, pipeline: &Pipeline) {
    ///         pipeline.submit(event);
    ///     }
    /// }
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build()?;
    /// let root = pipeline.logger();
    /// let mut request = root.scoped(Context::new().with_correlation_id("a"), Arc::new(Pass));
    ///
    /// let b = CorrelationText::new("b");
    /// let clone = request.clone();
    /// assert!(request.rescope(&root, &b, Arc::new(Pass)).is_err()); // still shared
    /// drop(clone);
    /// assert!(request.rescope(&root, &b, Arc::new(Pass)).is_ok());
    /// assert_eq!(request.context().and_then(Context::correlation_id), Some("b"));
    /// # Ok(()) }
    /// ```
    pub fn rescope(
        &mut self,
        root: &Logger,
        correlation_id: &CorrelationText,
        gate: Arc<dyn EventGate>,
    ) -> Result<(), Arc<dyn EventGate>> {
        let Some(inner) = Arc::get_mut(&mut self.inner) else {
            return Err(gate);
        };
        let Some(context) = inner.context.as_mut().and_then(Arc::get_mut) else {
            return Err(gate);
        };
        context.reset(correlation_id);
        inner.gate = Some(gate);
        if !inner.pipeline.same_as(&root.inner.pipeline) {
            inner.pipeline = root.inner.pipeline.clone();
        }
        Ok(())
    }

    /// Drops this logger's handle on its gate, for a per-request logger put
    /// aside for [`rescope`](Self::rescope): the gate's request state need
    /// not wait for the next `rescope` (loggers derived with
    /// [`bind`](Self::bind) keep their own handle). Returns whether it did:
    /// while a clone of `self` is left, the gate stays, for the clone logs
    /// through it. A retired logger is not for logging: until `rescope`, its
    /// events would skip the gate and go straight to the pipeline.
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use std::sync::Arc;
    /// use fapilog_core::{Context, EventGate, Pipeline, RawEvent};
    ///
    /// #[derive(Debug)]
    /// struct Pass;
    /// impl EventGate for Pass {
    ///     fn route(&self, event: RawEvent, pipeline: &Pipeline) {
    ///         pipeline.submit(event);
    ///     }
    /// }
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build()?;
    /// let gate: Arc<dyn EventGate> = Arc::new(Pass);
    /// let mut request = pipeline.logger().scoped(Context::new(), Arc::clone(&gate));
    /// let clone = request.clone();
    /// assert!(!request.retire_gate()); // the clone still logs through it
    /// drop(clone);
    /// assert!(request.retire_gate());
    /// assert_eq!(Arc::strong_count(&gate), 1);
    /// # Ok(()) }
    /// ```
    pub fn retire_gate(&mut self) -> bool {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                inner.gate = None;
                true
            }
            None => false,
        }
    }

    /// The bound context, if any was bound.
    pub fn context(&self) -> Option<&Context> {
        self.inner.context.as_deref()
    }

    /// The pipeline this logger submits to.
    pub fn pipeline(&self) -> &Pipeline {
        &self.inner.pipeline
    }

    /// Starts an event with fields added one by one; nothing is captured when
    /// no directive lets `level` through. The event's target (set with
    /// [`EventBuilder::target`]) is checked against the directives at `emit`.
    pub fn event(&self, level: Level, message: impl Into<Message>) -> EventBuilder<'_> {
        let pipeline = &self.inner.pipeline;
        let event = pipeline
            .gate_allows(level)
            .then(|| self.__begin(level, None, message.into()));
        EventBuilder {
            logger: self,
            event,
        }
    }

    /// Logs `message` at `level`, without fields.
    #[inline]
    pub fn log(&self, level: Level, message: impl Into<Message>) {
        if self.enabled(level) {
            self.__commit(self.__begin(level, None, message.into()));
        }
    }

    /// Logs `message` at TRACE.
    pub fn trace(&self, message: impl Into<Message>) {
        self.log(Level::Trace, message)
    }

    /// Logs `message` at DEBUG.
    pub fn debug(&self, message: impl Into<Message>) {
        self.log(Level::Debug, message)
    }

    /// Logs `message` at INFO.
    pub fn info(&self, message: impl Into<Message>) {
        self.log(Level::Info, message)
    }

    /// Logs `message` at WARN.
    pub fn warn(&self, message: impl Into<Message>) {
        self.log(Level::Warn, message)
    }

    /// Logs `message` at ERROR.
    pub fn error(&self, message: impl Into<Message>) {
        self.log(Level::Error, message)
    }

    /// Logs `message` at FATAL.
    pub fn fatal(&self, message: impl Into<Message>) {
        self.log(Level::Fatal, message)
    }

    /// Submits an event built elsewhere (a bridge from another logging API),
    /// with this logger's context unless the event has one. Checks the level
    /// directives for the event's target.
    #[inline]
    pub fn submit(&self, event: RawEvent) {
        if self.inner.pipeline.enabled_for(event.level, event.target) {
            self.__submit_checked(event);
        }
    }

    /// Used by the bridges: [`submit`](Self::submit) without the level
    /// check, which the bridge made against the record's own target (an
    /// event may carry it as a field instead, when it could not be interned).
    #[doc(hidden)]
    #[inline]
    pub fn __submit_checked(&self, mut event: RawEvent) {
        if event.context.is_none() {
            event.context = self.inner.context.clone();
        }
        if event.thread == 0 {
            event.thread = self.inner.pipeline.thread_tag();
        }
        self.inner.pipeline.limit(&mut event);
        self.dispatch(event);
    }

    /// Used by the macros: an event at an enabled `level`, stamped now,
    /// with this logger's context; the macro pushes its fields into it and
    /// hands it to [`__commit`](Self::__commit).
    #[doc(hidden)]
    #[inline]
    pub fn __begin(
        &self,
        level: Level,
        target: Option<&'static str>,
        message: Message,
    ) -> RawEvent {
        let thread = self.inner.pipeline.thread_tag();
        RawEvent::start(level, target, message, self.inner.context.clone(), thread)
    }

    /// Used by the macros: submits an event made by [`__begin`](Self::__begin).
    #[doc(hidden)]
    #[inline]
    pub fn __commit(&self, mut event: RawEvent) {
        // A few comparisons in the common case (`EventLimits::apply`).
        self.inner.pipeline.limit(&mut event);
        self.dispatch(event);
    }

    #[inline]
    fn dispatch(&self, event: RawEvent) {
        match &self.inner.gate {
            None => self.inner.pipeline.submit(event),
            Some(gate) => gate.route(event, &self.inner.pipeline),
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("context", &self.inner.context)
            .field("gate", &self.inner.gate)
            .field("pipeline", &self.inner.pipeline)
            .finish()
    }
}

/// An event being built field by field; call [`emit`](Self::emit) to log it.
#[must_use = "the event is logged only when `emit` is called"]
pub struct EventBuilder<'a> {
    logger: &'a Logger,
    event: Option<RawEvent>,
}

impl EventBuilder<'_> {
    /// Adds a field.
    pub fn field(mut self, key: impl Into<Key>, value: impl IntoValue) -> Self {
        if let Some(event) = &mut self.event {
            event.push_field(key, value);
        }
        self
    }

    /// Captures `error` now: type, message and `source()` chain.
    pub fn error<E: Error + ?Sized>(mut self, error: &E) -> Self {
        if let Some(event) = &mut self.event {
            event.set_error(CapturedError::new(error));
        }
        self
    }

    /// Attaches an error captured already (for example with a backtrace).
    pub fn captured_error(mut self, error: CapturedError) -> Self {
        if let Some(event) = &mut self.event {
            event.set_error(error);
        }
        self
    }

    /// Sets the event's target.
    pub fn target(mut self, target: &'static str) -> Self {
        if let Some(event) = &mut self.event {
            event.set_target(target);
        }
        self
    }

    /// Logs the event, if the level directives let its level and target through.
    pub fn emit(self) {
        if let Some(event) = self.event {
            if self
                .logger
                .inner
                .pipeline
                .enabled_for(event.level, event.target)
            {
                let mut event = event;
                self.logger.inner.pipeline.limit(&mut event);
                self.logger.dispatch(event);
            }
        }
    }
}

impl fmt::Debug for EventBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBuilder")
            .field("event", &self.event)
            .finish()
    }
}
