//! The raw event captured at the call site, and the eagerly captured error.
//!
//! A [`RawEvent`] is what crosses the queue: it owns everything it needs
//! (timestamp, level, message, fields, a snapshot of the bound context) so the
//! writer can build the envelope later, on its own thread.
//!
//! # Example
//!
//! ```
//! use fapilog_core::{CapturedError, Level, RawEvent};
//!
//! let io = std::io::Error::other("disk on fire");
//! let mut event = RawEvent::new(Level::Error, "write failed");
//! event.push_field("path", "/var/log/app.log");
//! event.set_error(CapturedError::new(&io));
//! drop(io); // captured already
//! assert_eq!(event.error().unwrap().message(), "disk on fire");
//! ```

use std::backtrace::Backtrace;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use smallvec::SmallVec;

use crate::context::Context;
use crate::level::Level;
use crate::value::{Field, IntoValue, Key};

/// How many fields an event stores without a heap allocation.
///
/// Six, so a request's access event (status, method, route, path, latency,
/// response size) fits: a spilled field list is freed by the writer thread,
/// and the caller's next allocation of that size then came back cold through
/// the allocator's shared bins (~100 ns with the system allocator).
pub const INLINE_FIELDS: usize = 6;

/// The fields of one event; the first [`INLINE_FIELDS`] are stored inline.
pub type Fields = SmallVec<[Field; INLINE_FIELDS]>;

/// An event's message: static when it is a literal, owned otherwise.
pub type Message = Cow<'static, str>;

/// A wall-clock instant (UTC).
///
/// The call site stores the raw `SystemTime` reading; the conversion to
/// nanoseconds since the epoch happens in the writer, when it is formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// The current time.
    #[inline]
    pub fn now() -> Self {
        Timestamp(SystemTime::now())
    }

    /// A timestamp from nanoseconds since the Unix epoch.
    pub fn from_unix_nanos(nanos: u64) -> Self {
        Timestamp(UNIX_EPOCH + std::time::Duration::from_nanos(nanos))
    }

    /// Nanoseconds since the Unix epoch (0 for instants before it, saturating after 2554).
    pub fn unix_nanos(self) -> u64 {
        self.0.duration_since(UNIX_EPOCH).map_or(0, |d| {
            d.as_secs()
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(d.subsec_nanos()))
        })
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Timestamp(t)
    }
}

/// An error captured at the call: its type, message, `source()` chain and,
/// when asked for, a backtrace of the logging call.
///
/// ```
/// use fapilog_core::CapturedError;
/// use std::fmt;
///
/// #[derive(Debug)]
/// struct Outer(std::io::Error);
/// impl fmt::Display for Outer {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("save failed") }
/// }
/// impl std::error::Error for Outer {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
/// }
///
/// let err = Outer(std::io::Error::other("disk full"));
/// let captured = CapturedError::new(&err);
/// assert_eq!(captured.message(), "save failed");
/// assert_eq!(captured.chain(), ["disk full"]);
/// assert!(captured.type_name().ends_with("Outer"));
/// ```
pub struct CapturedError {
    type_name: Cow<'static, str>,
    pub(crate) message: String,
    pub(crate) chain: Vec<String>,
    backtrace: Option<Backtrace>,
    rendered_backtrace: OnceLock<String>,
}

impl CapturedError {
    /// Captures `error` now: type name, `Display`, and the `Display` of every `source()`.
    pub fn new<E: Error + ?Sized>(error: &E) -> Self {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(s) = source {
            chain.push(s.to_string());
            source = s.source();
        }
        CapturedError {
            type_name: Cow::Borrowed(std::any::type_name::<E>().trim_start_matches('&')),
            message: error.to_string(),
            chain,
            backtrace: None,
            rendered_backtrace: OnceLock::new(),
        }
    }

    /// An error known only by its parts (used by bridges from other logging APIs).
    pub fn from_parts(
        type_name: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        chain: Vec<String>,
    ) -> Self {
        CapturedError {
            type_name: type_name.into(),
            message: message.into(),
            chain,
            backtrace: None,
            rendered_backtrace: OnceLock::new(),
        }
    }

    /// Also captures a backtrace of the current call stack (unresolved; symbols
    /// are resolved later, by the writer).
    #[must_use]
    pub fn with_backtrace(mut self) -> Self {
        self.backtrace = Some(Backtrace::force_capture());
        self
    }

    /// The error's type as `std::any::type_name` spells it.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The error's `Display`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Display` of each `source()`, nearest first.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// The captured backtrace, rendered (resolved once, on first use).
    pub fn backtrace(&self) -> Option<&str> {
        let bt = self.backtrace.as_ref()?;
        Some(self.rendered_backtrace.get_or_init(|| bt.to_string()))
    }
}

impl fmt::Debug for CapturedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedError")
            .field("type_name", &self.type_name)
            .field("message", &self.message)
            .field("chain", &self.chain)
            .field("backtrace", &self.backtrace.is_some())
            .finish()
    }
}

/// What the `error = ...` macro field accepts: `&E` (or `E`) where `E: Error`,
/// or a [`CapturedError`] built already (for example with a backtrace).
pub trait IntoCapturedError {
    /// Captures the error now.
    fn into_captured_error(self) -> CapturedError;
}

impl<E: Error> IntoCapturedError for E {
    fn into_captured_error(self) -> CapturedError {
        CapturedError::new(&self)
    }
}

impl IntoCapturedError for CapturedError {
    fn into_captured_error(self) -> CapturedError {
        self
    }
}

/// The sampling state of a request event, set by the request layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingTag {
    /// Whether the request's logs are kept.
    pub sampled: bool,
    /// The configured sample rate.
    pub sample_rate: f64,
    /// Whether the request was kept because it failed.
    pub promoted: bool,
}

/// An event as captured at the call site, before the writer builds its envelope.
pub struct RawEvent {
    pub(crate) timestamp: Timestamp,
    pub(crate) level: Level,
    pub(crate) target: Option<&'static str>,
    pub(crate) message: Message,
    pub(crate) fields: Fields,
    pub(crate) context: Option<Arc<Context>>,
    pub(crate) error: Option<Box<CapturedError>>,
    pub(crate) sampling: Option<SamplingTag>,
    pub(crate) seq: Option<NonZeroU64>,
    /// The calling thread's interned name (see `enrich::thread`).
    pub(crate) thread: u32,
}

impl RawEvent {
    /// An event stamped with the current time, with no fields and no context.
    #[inline]
    pub fn new(level: Level, message: impl Into<Message>) -> Self {
        Self::start(level, None, message.into(), None, 0)
    }

    /// An event stamped now, without fields yet: they are pushed into it in
    /// place (an event's fields are most of its size, and moving a field
    /// list into an event copies all of it). `thread` is the caller's
    /// interned thread name (0: not captured).
    #[inline]
    pub(crate) fn start(
        level: Level,
        target: Option<&'static str>,
        message: Message,
        context: Option<Arc<Context>>,
        thread: u32,
    ) -> Self {
        Self::start_at(Timestamp::now(), level, target, message, context, thread)
    }

    /// [`start`](Self::start) with the timestamp given (the profiler times taking it apart).
    #[inline]
    pub(crate) fn start_at(
        timestamp: Timestamp,
        level: Level,
        target: Option<&'static str>,
        message: Message,
        context: Option<Arc<Context>>,
        thread: u32,
    ) -> Self {
        RawEvent {
            timestamp,
            level,
            target,
            message,
            fields: Fields::new(),
            context,
            error: None,
            sampling: None,
            seq: None,
            thread,
        }
    }

    /// Sets the module path or component the event comes from.
    #[inline]
    pub fn set_target(&mut self, target: &'static str) {
        self.target = Some(target);
    }

    /// Appends a field.
    pub fn push_field(&mut self, key: impl Into<Key>, value: impl IntoValue) {
        self.fields.push(Field::new(key, value));
    }

    /// Makes room for `additional` more fields, so an event with more fields
    /// than fit inline allocates once.
    pub fn reserve_fields(&mut self, additional: usize) {
        self.fields.reserve_exact(additional);
    }

    /// Attaches a captured error.
    pub fn set_error(&mut self, error: CapturedError) {
        self.error = Some(Box::new(error));
    }

    /// Sets the context snapshot (bound fields, correlation ID).
    pub fn set_context(&mut self, context: Arc<Context>) {
        self.context = Some(context);
    }

    /// Sets the request sampling state written with the event.
    pub fn set_sampling(&mut self, tag: SamplingTag) {
        self.sampling = Some(tag);
    }

    /// When the event was captured.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The event's level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The event's target, when known.
    pub fn target(&self) -> Option<&'static str> {
        self.target
    }

    /// The event's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fields given at the call.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The context bound to the logger at the call.
    pub fn context(&self) -> Option<&Context> {
        self.context.as_deref()
    }

    /// The captured error.
    pub fn error(&self) -> Option<&CapturedError> {
        self.error.as_deref()
    }

    /// The request sampling state.
    pub fn sampling(&self) -> Option<SamplingTag> {
        self.sampling
    }

    /// The pipeline sequence number, assigned when the event is offered to the queue.
    pub fn seq(&self) -> Option<u64> {
        self.seq.map(NonZeroU64::get)
    }
}

impl fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawEvent")
            .field("level", &self.level)
            .field("message", &self.message)
            .field("fields", &self.fields)
            .field("seq", &self.seq())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layered(&'static str, Option<Box<Layered>>);
    impl fmt::Display for Layered {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layered {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[test]
    fn error_chain_is_captured_before_the_error_is_dropped() {
        let err = Layered(
            "a",
            Some(Box::new(Layered("b", Some(Box::new(Layered("c", None)))))),
        );
        let captured = CapturedError::new(&err);
        drop(err);
        assert_eq!(captured.message(), "a");
        assert_eq!(captured.chain(), ["b", "c"]);
        assert!(captured.backtrace().is_none());
    }

    #[test]
    fn backtrace_is_rendered_on_request() {
        let captured = CapturedError::new(&Layered("x", None)).with_backtrace();
        assert!(!captured.backtrace().unwrap().is_empty());
    }

    #[test]
    fn timestamp_is_after_2020() {
        assert!(Timestamp::now().unix_nanos() > 1_577_836_800_000_000_000);
    }
}
