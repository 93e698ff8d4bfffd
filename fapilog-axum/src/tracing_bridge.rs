//! `tracing` events into fapilog (feature `tracing`), in the scope of the current request.
//!
//! [`TracingBridge`] is a [`tracing_subscriber::Layer`]. For each `tracing`
//! event it captures the level, target, message and typed fields, adds the
//! fields of the enclosing spans (see [`SpanFields`]) and submits the event:
//!
//! - inside a request handled by [`FapilogLayer`](crate::FapilogLayer), to
//!   that request's logger ([`current_logger`](crate::current_logger)): the
//!   event carries the request's correlation ID and obeys its sampling
//!   decision, and a `tracing::error!` promotes an unsampled request, exactly
//!   like a `Logger` event;
//! - outside a request, to the bridge's root logger (the shared default
//!   pipeline unless you give one), or nowhere with
//!   [`requests_only`](TracingBridgeBuilder::requests_only).
//!
//! This covers every library that logs through `tracing` (`sqlx`, `reqwest`,
//! `hyper`, …) while it runs in the request's task. A task the handler
//! spawns (`tokio::spawn`) is not the request's task: like any Tokio
//! task-local, the request's logger does not follow it there, and its events
//! go to the root logger. The caller's thread only
//! captures owned values (`Debug` values and the message are rendered there,
//! because they borrow from the caller); the line is built by the writer.
//! The pipeline's level is checked per event, so
//! [`Pipeline::set_level`](fapilog_core::Pipeline::set_level) takes effect at once.
//!
//! | `tracing` | fapilog |
//! |---|---|
//! | `TRACE` … `ERROR` | `Level::Trace` … `Level::Error` |
//! | `metadata().target()` | `target` |
//! | the `message` field | `msg` |
//! | `u64`, `i64`, `f64`, `bool`, `&str` (and `u128`/`i128` that fit) | the same type |
//! | `?debug`, `%display`, other values | a string, rendered at the call |
//! | the first `&dyn Error` field | `error`: message and `source()` chain (the type is `dyn core::error::Error`: `tracing` hides the concrete one) |
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_axum::tracing_bridge::{SpanFields, TracingBridge};
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::pipeline::Pipeline;
//! use fapilog_core::sink::NullSink;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let (pipeline, guard) = Pipeline::builder().sink(NullSink::new(), JsonFormat::new()).build()?;
//! let bridge = TracingBridge::builder()
//!     .logger(pipeline.logger())
//!     .span_fields(SpanFields::Prefixed)
//!     .build();
//! let subscriber = tracing_subscriber::registry().with(bridge);
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("db", table = "orders");
//!     let _entered = span.enter();
//!     tracing::info!(rows = 3u64, "query done"); // msg, rows=3, db.table="orders"
//! });
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!(report.written, 1);
//! # Ok(()) }
//! ```

use std::fmt;

use fapilog_core::{
    CapturedError, Field, Fields, IntoValue, Key, Level, Logger, Message, RawEvent, Value,
};
use tracing::field::{Field as TracingField, Visit};
use tracing::span;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::extract::{with_current, BridgeRoot};

/// The default for [`TracingBridgeBuilder::span_fields`]: [`SpanFields::Flatten`].
pub const DEFAULT_SPAN_FIELDS: SpanFields = SpanFields::Flatten;

/// How the fields of the spans enclosing an event are added to it.
///
/// Spans are visited from the outermost to the innermost; an inner span's
/// field overrides an outer one of the same key, and the event's own field
/// overrides both.
///
/// ```
/// use fapilog_axum::tracing_bridge::{SpanFields, DEFAULT_SPAN_FIELDS};
///
/// assert_eq!(DEFAULT_SPAN_FIELDS, SpanFields::Flatten);
/// assert_ne!(SpanFields::Off, SpanFields::Prefixed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpanFields {
    /// Span fields are not added.
    Off,
    /// Span fields are added under their own names: `table = "orders"`.
    Flatten,
    /// Span fields are added as `<span name>.<field>`: `db.table = "orders"`.
    Prefixed,
}

impl Default for SpanFields {
    fn default() -> Self {
        DEFAULT_SPAN_FIELDS
    }
}

/// A [`tracing_subscriber::Layer`] that forwards `tracing` events into
/// fapilog, to the current request's logger when there is one.
///
/// ```
/// use fapilog_axum::tracing_bridge::TracingBridge;
/// use fapilog_axum::FapilogLayer;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// // Both log into the shared default pipeline (JSON lines on stdout).
/// let subscriber = tracing_subscriber::registry().with(TracingBridge::new());
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async {
///         tracing::info!("carries the request's correlation ID");
///         "ok"
///     }))
///     .layer(FapilogLayer::new());
/// # let _ = (subscriber, app);
/// // tracing::subscriber::set_global_default(subscriber)?;
/// ```
#[derive(Debug, Clone)]
pub struct TracingBridge {
    root: Option<Logger>,
    span_fields: SpanFields,
}

impl TracingBridge {
    /// A bridge whose events outside requests go to the shared default
    /// pipeline (JSON lines on stdout, like `FapilogLayer::new()`), with
    /// span fields flattened.
    pub fn new() -> Self {
        TracingBridge::builder().build()
    }

    /// A builder with every setting at its default.
    pub fn builder() -> TracingBridgeBuilder {
        TracingBridgeBuilder::default()
    }

    /// The logger events outside requests go to, if any.
    pub fn root_logger(&self) -> Option<&Logger> {
        self.root.as_ref()
    }

    /// How span fields are added.
    pub fn span_fields(&self) -> SpanFields {
        self.span_fields
    }

    fn forward<S>(&self, logger: &Logger, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let metadata = event.metadata();
        let level = level_of(metadata.level());
        if !logger.enabled_for(level, metadata.target()) {
            return;
        }
        let mut visitor = EventVisitor::default();
        event.record(&mut Recorder(&mut visitor));
        let mut raw = RawEvent::new(level, visitor.message.unwrap_or_default());
        raw.set_target(metadata.target());
        let mut fields = Fields::new();
        if self.span_fields != SpanFields::Off {
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope.from_root() {
                    if let Some(stored) = span.extensions().get::<StoredSpanFields>() {
                        for field in &stored.fields {
                            upsert(&mut fields, field.clone());
                        }
                    }
                }
            }
        }
        if !fields.is_empty() {
            fields.retain(|f| !visitor.fields.iter().any(|own| own.key == f.key));
        }
        for field in fields.into_iter().chain(visitor.fields) {
            raw.push_field(field.key, field.value);
        }
        if let Some(error) = visitor.error {
            raw.set_error(error);
        }
        logger.__submit_checked(raw);
    }
}

impl Default for TracingBridge {
    fn default() -> Self {
        TracingBridge::new()
    }
}

impl<S> Layer<S> for TracingBridge
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if self.span_fields == SpanFields::Off {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = SpanVisitor::new(self.span_fields, attrs.metadata().name());
        attrs.record(&mut Recorder(&mut visitor));
        span.extensions_mut().insert(StoredSpanFields {
            fields: visitor.fields,
        });
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if self.span_fields == SpanFields::Off {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = SpanVisitor::new(self.span_fields, span.name());
        values.record(&mut Recorder(&mut visitor));
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<StoredSpanFields>() {
            Some(stored) => {
                for field in visitor.fields {
                    upsert(&mut stored.fields, field);
                }
            }
            None => extensions.insert(StoredSpanFields {
                fields: visitor.fields,
            }),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let in_request = with_current(|logger| self.forward(logger, event, &ctx));
        if in_request.is_none() {
            if let Some(root) = &self.root {
                self.forward(root, event, &ctx);
            }
        }
    }
}

/// Builds a [`TracingBridge`].
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_axum::tracing_bridge::{SpanFields, TracingBridge};
/// use fapilog_core::pipeline::Pipeline;
///
/// let (pipeline, _guard) = Pipeline::builder().build()?;
/// let to_my_pipeline = TracingBridge::builder()
///     .logger(pipeline.logger().bind("service", "billing"))
///     .span_fields(SpanFields::Prefixed)
///     .build();
/// let requests_only = TracingBridge::builder().requests_only().build();
/// assert!(to_my_pipeline.root_logger().is_some());
/// assert!(requests_only.root_logger().is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TracingBridgeBuilder {
    root: BridgeRoot,
    span_fields: SpanFields,
}

impl Default for TracingBridgeBuilder {
    fn default() -> Self {
        TracingBridgeBuilder {
            root: BridgeRoot::Default,
            span_fields: DEFAULT_SPAN_FIELDS,
        }
    }
}

impl TracingBridgeBuilder {
    /// The logger for events emitted outside any request (its bound context
    /// is added to them). Default: the shared default pipeline's logger.
    pub fn logger(mut self, root: Logger) -> Self {
        self.root = BridgeRoot::Logger(root);
        self
    }

    /// Forwards only events emitted inside a request; the others are left to
    /// the subscriber's other layers. Default: off (they go to the root logger).
    pub fn requests_only(mut self) -> Self {
        self.root = BridgeRoot::None;
        self
    }

    /// How the fields of enclosing spans are added. Default: [`DEFAULT_SPAN_FIELDS`].
    pub fn span_fields(mut self, mode: SpanFields) -> Self {
        self.span_fields = mode;
        self
    }

    /// The bridge. With the default root this starts the shared default pipeline.
    pub fn build(self) -> TracingBridge {
        let root = self.root.into_logger();
        TracingBridge {
            root,
            span_fields: self.span_fields,
        }
    }
}

/// The fields of one span, captured when it was created or recorded.
#[derive(Debug)]
struct StoredSpanFields {
    fields: Vec<Field>,
}

/// Replaces the field of the same key, or appends.
fn upsert<C>(fields: &mut C, field: Field)
where
    C: std::ops::DerefMut<Target = [Field]> + Extend<Field>,
{
    match fields.iter_mut().find(|f| f.key == field.key) {
        Some(existing) => existing.value = field.value,
        None => fields.extend(std::iter::once(field)),
    }
}

fn level_of(level: &tracing::Level) -> Level {
    match *level {
        tracing::Level::TRACE => Level::Trace,
        tracing::Level::DEBUG => Level::Debug,
        tracing::Level::INFO => Level::Info,
        tracing::Level::WARN => Level::Warn,
        _ => Level::Error,
    }
}

/// The typed value of a 128-bit integer: a 64-bit one when it fits, else its digits.
/// Captures an event's message, fields and first error as owned values.
#[derive(Default)]
struct EventVisitor {
    message: Option<Message>,
    fields: Fields,
    error: Option<CapturedError>,
}

/// What a visitor does with a field's value; [`Recorder`] turns every
/// `tracing` value into a [`Value`] and hands it here.
trait Collect {
    fn push(&mut self, field: &TracingField, value: Value);

    /// Keeps `text` as the message instead of a field; `false` leaves it a field.
    fn take_message(&mut self, _field: &TracingField, _text: impl FnOnce() -> String) -> bool {
        false
    }

    /// Keeps `error` as the captured error instead of a field; `false` leaves it a field.
    fn take_error(&mut self, _error: &(dyn std::error::Error + 'static)) -> bool {
        false
    }
}

/// The one `Visit` implementation, over either collector.
struct Recorder<'a, C>(&'a mut C);

impl<C: Collect> Visit for Recorder<'_, C> {
    fn record_f64(&mut self, field: &TracingField, value: f64) {
        self.0.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &TracingField, value: i64) {
        self.0.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &TracingField, value: u64) {
        self.0.push(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &TracingField, value: i128) {
        self.0.push(field, value.into_value());
    }

    fn record_u128(&mut self, field: &TracingField, value: u128) {
        self.0.push(field, value.into_value());
    }

    fn record_bool(&mut self, field: &TracingField, value: bool) {
        self.0.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &TracingField, value: &str) {
        if !self.0.take_message(field, || value.to_owned()) {
            self.0.push(field, Value::from_str_copied(value));
        }
    }

    fn record_error(&mut self, field: &TracingField, value: &(dyn std::error::Error + 'static)) {
        if !self.0.take_error(value) {
            self.0.push(field, Value::display(value));
        }
    }

    fn record_debug(&mut self, field: &TracingField, value: &dyn fmt::Debug) {
        if !self.0.take_message(field, || format!("{value:?}")) {
            self.0.push(field, Value::debug(value));
        }
    }
}

impl Collect for EventVisitor {
    fn push(&mut self, field: &TracingField, value: Value) {
        self.fields.push(Field {
            key: Key::from_static(field.name()),
            value,
        });
    }

    fn take_message(&mut self, field: &TracingField, text: impl FnOnce() -> String) -> bool {
        let take = field.name() == "message" && self.message.is_none();
        if take {
            self.message = Some(Message::Owned(text()));
        }
        take
    }

    fn take_error(&mut self, error: &(dyn std::error::Error + 'static)) -> bool {
        let take = self.error.is_none();
        if take {
            self.error = Some(CapturedError::new(error));
        }
        take
    }
}

/// Captures a span's fields, named as [`SpanFields`] says.
struct SpanVisitor {
    mode: SpanFields,
    span: &'static str,
    fields: Vec<Field>,
}

impl SpanVisitor {
    fn new(mode: SpanFields, span: &'static str) -> Self {
        SpanVisitor {
            mode,
            span,
            fields: Vec::new(),
        }
    }
}

impl Collect for SpanVisitor {
    fn push(&mut self, field: &TracingField, value: Value) {
        let key = match self.mode {
            SpanFields::Prefixed => Key::from(format!("{}.{}", self.span, field.name())),
            SpanFields::Off | SpanFields::Flatten => Key::from_static(field.name()),
        };
        upsert(&mut self.fields, Field { key, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fapilog_core::sink::Sink;
    use fapilog_core::{format::JsonFormat, Pipeline};
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// Keeps every line written.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Sink for Lines {
        fn write(&mut self, batch: &[u8]) -> std::io::Result<()> {
            self.0.lock().unwrap().extend_from_slice(batch);
            Ok(())
        }
    }

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn capture(mode: SpanFields, body: impl FnOnce()) -> String {
        let lines = Lines::default();
        // No enrichment: the assertions pin whole line endings.
        let (pipeline, guard) = Pipeline::builder()
            .level(Level::Trace)
            .enrichment(fapilog_core::enrich::Enrichment::none())
            .sink(lines.clone(), JsonFormat::new())
            .build()
            .unwrap();
        let bridge = TracingBridge::builder()
            .logger(pipeline.logger())
            .span_fields(mode)
            .build();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(bridge), body);
        assert!(!guard.shutdown(std::time::Duration::from_secs(5)).timed_out);
        lines.text()
    }

    #[derive(Debug)]
    struct Timeout;
    impl fmt::Display for Timeout {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("timed out")
        }
    }
    impl std::error::Error for Timeout {}

    #[test]
    fn typed_fields_message_target_and_error() {
        let text = capture(SpanFields::Off, || {
            let err = Timeout;
            tracing::warn!(
                target: "db::pool",
                n = 3u64,
                delta = -2i64,
                ratio = 0.5,
                ok = false,
                name = "ada",
                big = u128::MAX,
                list = ?[1, 2],
                error = &err as &(dyn std::error::Error + 'static),
                "pool {} exhausted", "main"
            );
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        let expected = concat!(
            r#""level":"WARN","msg":"pool main exhausted","seq":1,"target":"db::pool","#,
            r#""n":3,"delta":-2,"ratio":0.5,"ok":false,"name":"ada","#,
            r#""big":"340282366920938463463374607431768211455","list":"[1, 2]","#,
            r#""error":{"type":"dyn core::error::Error","message":"timed out","chain":[]}}"#
        );
        assert!(text.contains(expected), "{text}");
    }

    #[test]
    fn span_fields_flattened_inner_wins_event_wins() {
        let text = capture(SpanFields::Flatten, || {
            let outer = tracing::info_span!("outer", user = "ada", region = "eu");
            let _o = outer.enter();
            let inner =
                tracing::info_span!("inner", region = "us", attempt = tracing::field::Empty);
            inner.record("attempt", 2u64);
            let _i = inner.enter();
            tracing::info!(user = "bob", "hi");
        });
        assert!(
            text.contains(r#""msg":"hi","seq":1,"target":"fapilog_axum::tracing_bridge::tests","region":"us","attempt":2,"user":"bob"}"#),
            "{text}"
        );
    }

    #[test]
    fn span_fields_prefixed_or_off() {
        let body = || {
            let span = tracing::info_span!("db", table = "orders");
            let _e = span.enter();
            tracing::info!("q");
        };
        assert!(capture(SpanFields::Prefixed, body).contains(r#","db.table":"orders"}"#));
        assert!(capture(SpanFields::Off, body)
            .trim_end()
            .ends_with(r#""msg":"q","seq":1,"target":"fapilog_axum::tracing_bridge::tests"}"#));
    }

    #[test]
    fn disabled_levels_are_not_captured() {
        let lines = Lines::default();
        let (pipeline, guard) = Pipeline::builder()
            .sink(lines.clone(), JsonFormat::new())
            .build()
            .unwrap();
        let to_root = TracingBridge::builder().logger(pipeline.logger()).build();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(to_root), || {
            tracing::debug!("below INFO");
            tracing::info!("kept");
        });
        let report = guard.shutdown(std::time::Duration::from_secs(5));
        assert_eq!(report.metrics.submitted, 1);
        assert!(lines.text().contains(r#""msg":"kept""#));
    }
}
