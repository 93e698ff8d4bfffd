//! `log` records into fapilog (feature `log`), in the scope of the current request.
//!
//! [`LogBridge`] is a [`log::Log`]: install it once with
//! [`LogBridge::install`]. Each record becomes a fapilog event with its level,
//! target, message and key-values (typed: `u64`, `i64`, `f64`, `bool`, `&str`;
//! anything else rendered with `Display`). Like the `tracing` bridge, it submits
//! to the current request's logger when the record is logged inside a request
//! handled by [`FapilogLayer`](crate::FapilogLayer) (so the record carries the
//! correlation ID, follows the request's sampling and an `error!` promotes the
//! request), and to its root logger otherwise.
//!
//! It talks to fapilog directly, without going through `tracing`: no
//! `tracing-log` conversion, no subscriber, one level check. A message without
//! arguments is kept without copying. `log` targets are `&str` for the
//! record's lifetime: the usual target (the module path) is used as it is;
//! other targets are interned, up to [`MAX_INTERNED_TARGETS`] distinct ones,
//! after which they are written as a `log.target` field instead.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use fapilog_axum::log_bridge::LogBridge;
//! use fapilog_core::pipeline::Pipeline;
//!
//! let (pipeline, guard) = Pipeline::builder().build()?; // JSON lines on stdout
//! LogBridge::builder().logger(pipeline.logger()).build().install()?;
//! log::info!(order_id = 42; "order created");
//! log::debug!("below INFO: not captured");
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!(report.written, 1);
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::sync::{OnceLock, PoisonError, RwLock};

use fapilog_core::{Key, Level, Logger, Message, RawEvent, Value};
use log::kv::{self, VisitSource};

use crate::extract::{with_current, BridgeRoot};

/// How many distinct non-module-path targets are interned process-wide.
pub const MAX_INTERNED_TARGETS: usize = 1024;

/// A [`log::Log`] that forwards `log` records into fapilog, to the current
/// request's logger when there is one.
///
/// ```
/// use fapilog_axum::log_bridge::LogBridge;
/// use log::Log;
///
/// let bridge = LogBridge::builder().requests_only().build();
/// // Outside a request, with no root logger, nothing is enabled.
/// assert!(!bridge.enabled(&log::Metadata::builder().level(log::Level::Error).build()));
/// // bridge.install()?; // once, at start-up
/// ```
#[derive(Debug, Clone)]
pub struct LogBridge {
    root: Option<Logger>,
}

impl LogBridge {
    /// A bridge whose records outside requests go to the shared default
    /// pipeline (JSON lines on stdout, like `FapilogLayer::new()`).
    pub fn new() -> Self {
        LogBridge::builder().build()
    }

    /// A builder with every setting at its default.
    pub fn builder() -> LogBridgeBuilder {
        LogBridgeBuilder::default()
    }

    /// The logger records outside requests go to, if any.
    pub fn root_logger(&self) -> Option<&Logger> {
        self.root.as_ref()
    }

    /// Makes this the `log` crate's logger, with `log`'s maximum level at
    /// TRACE so that the pipelines' own (run-time) levels decide.
    ///
    /// # Errors
    ///
    /// [`log::SetLoggerError`] if a `log` logger was installed already.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(log::LevelFilter::Trace);
        Ok(())
    }

    fn with_logger<R>(&self, f: impl Fn(&Logger) -> R) -> Option<R> {
        with_current(&f).or_else(|| self.root.as_ref().map(&f))
    }
}

impl Default for LogBridge {
    fn default() -> Self {
        LogBridge::new()
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let level = level_of(metadata.level());
        self.with_logger(|logger| logger.enabled_for(level, metadata.target()))
            .unwrap_or(false)
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = level_of(record.level());
        self.with_logger(|logger| {
            if logger.enabled_for(level, record.target()) {
                logger.__submit_checked(capture(level, record));
            }
        });
    }

    fn flush(&self) {
        self.with_logger(|logger| logger.pipeline().flush());
    }
}

/// Builds a [`LogBridge`].
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_axum::log_bridge::LogBridge;
/// use fapilog_core::pipeline::Pipeline;
///
/// let (pipeline, _guard) = Pipeline::builder().build()?;
/// let bridge = LogBridge::builder().logger(pipeline.logger().bind("source", "log")).build();
/// assert!(bridge.root_logger().is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LogBridgeBuilder {
    root: BridgeRoot,
}

impl Default for LogBridgeBuilder {
    fn default() -> Self {
        LogBridgeBuilder {
            root: BridgeRoot::Default,
        }
    }
}

impl LogBridgeBuilder {
    /// The logger for records logged outside any request. Default: the shared
    /// default pipeline's logger.
    pub fn logger(mut self, root: Logger) -> Self {
        self.root = BridgeRoot::Logger(root);
        self
    }

    /// Forwards only records logged inside a request; the others are
    /// discarded. Default: off (they go to the root logger).
    pub fn requests_only(mut self) -> Self {
        self.root = BridgeRoot::None;
        self
    }

    /// The bridge. With the default root this starts the shared default pipeline.
    pub fn build(self) -> LogBridge {
        let root = self.root.into_logger();
        LogBridge { root }
    }
}

fn level_of(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

/// Captures a record as an owned event.
fn capture(level: Level, record: &log::Record<'_>) -> RawEvent {
    let args = record.args();
    let message: Message = match args.as_str() {
        Some(literal) => Message::Borrowed(literal),
        None => Message::Owned(args.to_string()),
    };
    let mut event = RawEvent::new(level, message);
    let target = record.target();
    match record.module_path_static().filter(|m| *m == target) {
        Some(module) => event.set_target(module),
        None => match intern(target) {
            Some(interned) => event.set_target(interned),
            None => event.push_field("log.target", target),
        },
    }
    let mut fields = KeyValues(&mut event);
    // Our visitor never fails, so neither does the visit.
    let _ = record.key_values().visit(&mut fields);
    event
}

/// The `&'static` copy of `target`, leaked once per distinct target, up to the cap.
fn intern(target: &str) -> Option<&'static str> {
    static TARGETS: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let targets = TARGETS.get_or_init(Default::default);
    if let Some(found) = targets
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(target)
    {
        return Some(found);
    }
    let mut set = targets.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = set.get(target) {
        return Some(found);
    }
    if set.len() >= MAX_INTERNED_TARGETS {
        return None;
    }
    let leaked: &'static str = Box::leak(target.to_owned().into_boxed_str());
    set.insert(leaked);
    Some(leaked)
}

/// Appends a record's key-values to the event, typed where `log` says the type.
struct KeyValues<'e>(&'e mut RawEvent);

impl<'kvs> VisitSource<'kvs> for KeyValues<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let value = if let Some(v) = value.to_bool() {
            Value::Bool(v)
        } else if let Some(v) = value.to_u64() {
            Value::U64(v)
        } else if let Some(v) = value.to_i64() {
            Value::I64(v)
        } else if let Some(v) = value.to_f64() {
            Value::F64(v)
        } else if let Some(v) = value.to_borrowed_str() {
            Value::from_str_copied(v)
        } else {
            Value::display(&value)
        };
        self.0.push_field(Key::from(key.as_str().to_owned()), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_event(record: &log::Record<'_>) -> RawEvent {
        capture(level_of(record.level()), record)
    }

    #[test]
    fn message_target_and_typed_key_values() {
        let kvs: &[(&str, kv::Value<'_>)] = &[
            ("n", kv::Value::from(3u64)),
            ("d", kv::Value::from(-2i64)),
            ("r", kv::Value::from(0.5f64)),
            ("ok", kv::Value::from(true)),
            ("who", kv::Value::from("ada")),
            (
                "ip",
                kv::Value::from_display(&std::net::Ipv4Addr::LOCALHOST),
            ),
        ];
        let record = log::Record::builder()
            .level(log::Level::Warn)
            .target("app::db")
            .module_path_static(Some("app::db"))
            .args(format_args!("pool exhausted"))
            .key_values(&kvs)
            .build();
        let event = record_event(&record);
        assert_eq!(event.level(), Level::Warn);
        assert_eq!(event.message(), "pool exhausted");
        assert_eq!(event.target(), Some("app::db"));
        let got: Vec<_> = event
            .fields()
            .iter()
            .map(|f| (f.key().to_owned(), format!("{:?}", f.value())))
            .collect();
        let want = [
            ("n", "3"),
            ("d", "-2"),
            ("r", "0.5"),
            ("ok", "true"),
            ("who", "\"ada\""),
            ("ip", "\"127.0.0.1\""),
        ];
        assert_eq!(
            got,
            want.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
        );
    }

    #[test]
    fn custom_targets_are_interned_once() {
        let owned = String::from("custom-target");
        let record = log::Record::builder()
            .target(&owned)
            .module_path_static(Some("app"))
            .args(format_args!("m"))
            .build();
        let a = record_event(&record).target().unwrap();
        let b = record_event(&record).target().unwrap();
        assert_eq!(a, "custom-target");
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn formatted_messages_are_rendered_at_the_call() {
        let n = 7;
        let message = record_event(&log::Record::builder().args(format_args!("n = {n}")).build());
        assert_eq!(message.message(), "n = 7");
    }
}
