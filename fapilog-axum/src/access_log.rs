//! The access log: one event per request, and what it may contain.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath};
use fapilog_core::{ConfigError, Field, Level, Logger, RawEvent, Value};
use http::header::{HeaderName, CONTENT_LENGTH, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;

use crate::body_size;

/// Headers never written in clear, whatever the allowlist says.
pub const ALWAYS_REDACTED: [&str; 5] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
];

/// What replaces a redacted header's value.
pub const REDACTED: &str = "[REDACTED]";

/// The target of access-log events.
pub const ACCESS_TARGET: &str = "fapilog_axum::access";

/// What the access log records.
///
/// ```
/// use fapilog_axum::AccessLogConfig;
///
/// let config = AccessLogConfig::new()
///     .user_agent(true)
///     .header("x-forwarded-for")?
///     .header("authorization")?; // allowed, but always written as "[REDACTED]"
/// # Ok::<(), fapilog_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AccessLogConfig {
    enabled: bool,
    client_ip: bool,
    user_agent: bool,
    headers: Vec<HeaderName>,
}

impl Default for AccessLogConfig {
    fn default() -> Self {
        AccessLogConfig::new()
    }
}

impl AccessLogConfig {
    /// On, without client IP, user agent or headers.
    pub fn new() -> Self {
        AccessLogConfig {
            enabled: true,
            client_ip: false,
            user_agent: false,
            headers: Vec::new(),
        }
    }

    /// Whether an access event is logged per request. Default: true.
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Record the client's address (needs `into_make_service_with_connect_info`). Default: false.
    #[must_use]
    pub fn client_ip(mut self, on: bool) -> Self {
        self.client_ip = on;
        self
    }

    /// Record the `user-agent` header. Default: false.
    #[must_use]
    pub fn user_agent(mut self, on: bool) -> Self {
        self.user_agent = on;
        self
    }

    /// Record this request header as `header.<name>`. Default: none. Sensitive
    /// headers ([`ALWAYS_REDACTED`]) are written as [`REDACTED`]. The
    /// correlation ID header is left out when its value was invalid (and
    /// replaced): an invalid ID is never logged.
    pub fn header(mut self, name: &str) -> Result<Self, ConfigError> {
        let header = HeaderName::try_from(name).map_err(|_| {
            ConfigError::invalid(
                "access_log.headers",
                format!("{name:?}"),
                "must be a valid HTTP header name",
            )
        })?;
        // Named twice, it would be written twice: a JSON object with a repeated key.
        if !self.headers.contains(&header) {
            self.headers.push(header);
        }
        Ok(self)
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Captures what the access log needs from the request, before the
    /// handler takes it; the `hidden` header is left out of the allowlisted ones.
    pub(crate) fn capture<B>(
        &self,
        req: &Request<B>,
        route: Option<&MatchedPath>,
        hidden: Option<&HeaderName>,
    ) -> RequestInfo {
        let has_extras = self.client_ip || self.user_agent || !self.headers.is_empty();
        RequestInfo {
            method: method_value(req.method()),
            path: Value::from_str_copied(req.uri().path()),
            route: route.map(|r| Value::from_str_copied(r.as_str())),
            request_bytes: content_length(req.headers()).map(RequestBytes::Known),
            extras: has_extras.then(|| self.capture_extras(req, hidden)),
        }
    }

    /// The opt-in fields, out of line: most layers have none, and the
    /// common path then carries neither their code nor their room
    /// (measured: ~500 fewer estimated cycles per request, `docs/benchmarks.md`).
    #[inline(never)]
    fn capture_extras<B>(&self, req: &Request<B>, hidden: Option<&HeaderName>) -> Box<Extras> {
        let headers = req.headers();
        let client_ip = self
            .client_ip
            .then(|| {
                req.extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| Value::display(&c.0.ip()))
            })
            .flatten();
        let user_agent = self
            .user_agent
            .then(|| {
                headers
                    .get(USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(Value::from_str_copied)
            })
            .flatten();
        let headers = self
            .headers
            .iter()
            .filter(|name| Some(*name) != hidden)
            .filter_map(|name| {
                Some(Field::new(
                    format!("header.{name}"),
                    header_value(name, headers)?,
                ))
            })
            .collect();
        Box::new(Extras {
            client_ip,
            user_agent,
            headers,
        })
    }
}

/// Standard methods as static strings, so the common case copies nothing.
fn method_value(method: &Method) -> Value {
    let name = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => return Value::from_str_copied(method.as_str()),
    };
    Value::from_static(name)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn header_value(name: &HeaderName, headers: &HeaderMap) -> Option<Value> {
    let value = headers.get(name)?;
    if ALWAYS_REDACTED.contains(&name.as_str()) {
        return Some(Value::from_static(REDACTED));
    }
    Some(Value::from_str_copied(&String::from_utf8_lossy(
        value.as_bytes(),
    )))
}

/// The size of a request's body.
#[derive(Debug)]
enum RequestBytes {
    /// Declared by `content-length`, or exact in the body's size hint.
    Known(u64),
    /// Streamed: what the application has read so far.
    Read(Arc<AtomicU64>),
}

impl RequestBytes {
    fn get(&self) -> u64 {
        match self {
            RequestBytes::Known(n) => *n,
            RequestBytes::Read(n) => n.load(Ordering::Relaxed),
        }
    }
}

/// What the access log records about the request.
#[derive(Debug)]
pub(crate) struct RequestInfo {
    method: Value,
    path: Value,
    route: Option<Value>,
    request_bytes: Option<RequestBytes>,
    extras: Option<Box<Extras>>,
}

/// The access log's opt-in request fields.
#[derive(Debug)]
struct Extras {
    client_ip: Option<Value>,
    user_agent: Option<Value>,
    headers: Vec<Field>,
}

impl Extras {
    fn field_count(&self) -> usize {
        usize::from(self.client_ip.is_some())
            + usize::from(self.user_agent.is_some())
            + self.headers.len()
    }

    fn push_into(self, event: &mut RawEvent) {
        if let Some(ip) = self.client_ip {
            event.push_field("client_ip", ip);
        }
        if let Some(ua) = self.user_agent {
            event.push_field("user_agent", ua);
        }
        for field in self.headers {
            event.push_field(field.key, field.value);
        }
    }
}

impl RequestInfo {
    /// Sizes a body that declares no `content-length`: from its exact size
    /// hint, else by counting what the application reads of it. A request
    /// without a body has no `request_bytes` (and its access event keeps to
    /// the fields stored inline).
    pub(crate) fn measure_body<B: Body + 'static>(&mut self, req: &mut Request<B>) {
        if self.request_bytes.is_some() {
            return;
        }
        self.request_bytes = match req.body().size_hint().exact() {
            Some(0) => None,
            Some(n) => Some(RequestBytes::Known(n)),
            None if req.body().is_end_stream() => None,
            None => body_size::axum_body(req.body_mut())
                .map(|body| RequestBytes::Read(body_size::count_read(body))),
        };
    }

    /// A HEAD request: its response carries no body.
    fn is_head(&self) -> bool {
        self.method.as_str() == Some(Method::HEAD.as_str())
    }

    /// How many fields the request part of the access event has.
    fn field_count(&self) -> usize {
        4 + usize::from(self.request_bytes.is_some())
            + self
                .extras
                .as_ref()
                .map_or(0, |extras| extras.field_count())
    }
}

/// The level of an access event: 5xx ERROR, 4xx WARN, else INFO.
pub(crate) fn level_for(status: StatusCode) -> Level {
    if status.is_server_error() {
        Level::Error
    } else if status.is_client_error() {
        Level::Warn
    } else {
        Level::Info
    }
}

/// Logs the access event for a response: now when the body's size is
/// known, else when a streamed body has been sent. A streamed body is
/// polled in `log`'s scope either way. Returns whether the body holds a
/// clone of `log` (for its event, or its scope).
///
/// The event of a request whose logs are not `kept` is only counted as
/// sampled out, unless its level is ERROR or above: its gate would discard
/// it, so it is not built (nine requests in ten at rate 0.1).
pub(crate) fn log_response<B: Body + 'static>(
    log: &Logger,
    info: RequestInfo,
    res: &mut Response<B>,
    latency: Duration,
    kept: bool,
) -> bool {
    let status = res.status();
    let level = level_for(status);
    if !is_written(log, level, kept) {
        return body_size::scope_stream(res.body_mut(), log);
    }
    // No body goes out for HEAD or a status without one, whatever the
    // handler returned (axum strips a HEAD body only outside this layer).
    let sends_body = !info.is_head() && has_body(status);
    let exact = res.body().size_hint().exact();
    let response_bytes = if sends_body {
        exact.or_else(|| content_length(res.headers()))
    } else {
        Some(0)
    };
    let streamed = if sends_body && exact.is_none() {
        body_size::axum_body(res.body_mut())
    } else {
        None
    };
    let body = match streamed {
        Some(body) if response_bytes.is_none() => body,
        streamed => {
            // One call, inlined: the event is built in place.
            write_response(log, status, info, latency, response_bytes, true);
            // A stream of declared size is only polled in the request's scope.
            return streamed.map(|body| body_size::scope(body, log)).is_some();
        }
    };
    let pending = PendingAccess {
        logger: log.clone(),
        status,
        info,
        latency,
    };
    body_size::write_at_end(body, pending);
    true
}

/// Whether the access event at `level` of a request is built: not when
/// [`ACCESS_TARGET`] is disabled at that level, nor when the request's logs
/// are not `kept` and the level is below ERROR, as its gate would discard
/// it; then it is only counted as sampled out.
fn is_written(log: &Logger, level: Level, kept: bool) -> bool {
    if !log.enabled_for(level, ACCESS_TARGET) {
        return false;
    }
    if kept || level.is_protected() {
        return true;
    }
    log.pipeline().count_sampled_out(1);
    false
}

/// Whether a response with `status` may carry a body (RFC 9110, 6.4.1).
fn has_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// The access event of a response whose body is still being sent.
#[derive(Debug)]
pub(crate) struct PendingAccess {
    logger: Logger,
    status: StatusCode,
    info: RequestInfo,
    latency: Duration,
}

impl PendingAccess {
    /// The request's logger.
    pub(crate) fn logger(&self) -> &Logger {
        &self.logger
    }

    /// Writes the event; `complete` says whether the body reached its end.
    pub(crate) fn write(self, response_bytes: Option<u64>, complete: bool) {
        let PendingAccess {
            logger,
            status,
            info,
            latency,
        } = self;
        write_response(&logger, status, info, latency, response_bytes, complete);
    }
}

// Inlined into `log_response`, so that the event is built in place on its
// way to the queue, as on the common path it is.
#[inline]
fn write_response(
    log: &Logger,
    status: StatusCode,
    info: RequestInfo,
    latency: Duration,
    response_bytes: Option<u64>,
    complete: bool,
) {
    let mut event = begin(log, level_for(status), "request completed");
    let extra = usize::from(response_bytes.is_some()) + usize::from(!complete);
    event.reserve_fields(1 + info.field_count() + extra);
    event.push_field("status", status.as_u16());
    push_request_fields(&mut event, info, latency, response_bytes);
    if !complete {
        event.push_field("response_incomplete", true);
    }
    log.__commit(event);
}

/// Logs the access event for a request whose service returned an error.
pub(crate) fn log_failure(log: &Logger, info: RequestInfo, latency: Duration) {
    if log.enabled_for(Level::Error, ACCESS_TARGET) {
        write_without_status(log, Level::Error, "request failed", info, latency);
    }
}

/// Logs the access event of a request dropped before it answered (the
/// client went away): INFO, without status or response size. Not built
/// when the request's logs are not `kept`, only counted as sampled out.
pub(crate) fn log_cancelled(log: &Logger, info: RequestInfo, latency: Duration, kept: bool) {
    if is_written(log, Level::Info, kept) {
        write_without_status(log, Level::Info, "request cancelled", info, latency);
    }
}

/// The access event of a request that ended without a response.
fn write_without_status(
    log: &Logger,
    level: Level,
    message: &'static str,
    info: RequestInfo,
    latency: Duration,
) {
    let mut event = begin(log, level, message);
    event.reserve_fields(info.field_count());
    push_request_fields(&mut event, info, latency, None);
    log.__commit(event);
}

/// An access event on `log`, which its callers have checked is enabled for
/// [`ACCESS_TARGET`] at `level`: committed with `Logger::__commit`, it is
/// not checked again.
fn begin(log: &Logger, level: Level, message: &'static str) -> RawEvent {
    log.__begin(level, Some(ACCESS_TARGET), message.into())
}

/// `d` in milliseconds, rounded once: 2,110 ns is written `0.00211`, where
/// `as_secs_f64() * 1000.0` (rounded twice) gives `0.0021100000000000003`.
/// (Nanoseconds convert exactly up to 2^53, some 104 days; through `u64`,
/// as converting a `u128` is a library call.)
fn millis(d: Duration) -> f64 {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    nanos as f64 / 1_000_000.0
}

// Fields are pushed into the event in place: moving a builder per field
// costs more than the logging itself. Without opt-in extras they fit inline
// (`INLINE_FIELDS`).
fn push_request_fields(
    event: &mut RawEvent,
    info: RequestInfo,
    latency: Duration,
    response_bytes: Option<u64>,
) {
    event.push_field("method", info.method);
    event.push_field("route", info.route);
    event.push_field("path", info.path);
    event.push_field("latency_ms", millis(latency));
    if let Some(bytes) = info.request_bytes {
        event.push_field("request_bytes", bytes.get());
    }
    if let Some(bytes) = response_bytes {
        event.push_field("response_bytes", bytes);
    }
    if let Some(extras) = info.extras {
        extras.push_into(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_are_static_and_others_copied() {
        for name in [
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
        ] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            assert!(matches!(method_value(&method), Value::Static(s) if s == name));
        }
        let purge = Method::from_bytes(b"PURGE").unwrap();
        let value = method_value(&purge);
        assert!(matches!(value, Value::Inline(_)));
        assert_eq!(value.as_str(), Some("PURGE"));
    }

    #[test]
    fn a_header_allowlisted_twice_is_recorded_once() {
        let config = AccessLogConfig::new()
            .header("x-tenant")
            .unwrap()
            .header("X-Tenant")
            .unwrap();
        let req = Request::get("/")
            .header("x-tenant", "acme")
            .body(())
            .unwrap();
        let info = config.capture(&req, None, None);
        assert_eq!(info.extras.map(|extras| extras.headers.len()), Some(1));
    }

    #[test]
    fn latency_is_rounded_once_to_the_shortest_millisecond_figure() {
        let text = |nanos| format!("{}", millis(Duration::from_nanos(nanos)));
        assert_eq!(text(2_110), "0.00211");
        assert_eq!(text(19_680), "0.01968");
        assert_eq!(text(55_931_890), "55.93189");
        assert_eq!(text(1_500_000_000), "1500");
    }
}
