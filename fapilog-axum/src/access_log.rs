//! The access log: one event per request, and what it may contain.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use fapilog_core::{ConfigError, Level, Logger};
use http::header::{HeaderName, CONTENT_LENGTH, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;

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
    /// headers ([`ALWAYS_REDACTED`]) are written as [`REDACTED`].
    pub fn header(mut self, name: &str) -> Result<Self, ConfigError> {
        let header = HeaderName::try_from(name).map_err(|_| {
            ConfigError::invalid(
                "access_log.headers",
                format!("{name:?}"),
                "must be a valid HTTP header name",
            )
        })?;
        self.headers.push(header);
        Ok(self)
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Captures what the access log needs from the request, before the handler takes it.
    pub(crate) fn capture<B>(&self, req: &Request<B>, route: Option<&str>) -> RequestInfo {
        let headers = req.headers();
        RequestInfo {
            method: req.method().clone(),
            path: req.uri().path().to_owned(),
            route: route.map(str::to_owned),
            request_bytes: content_length(headers),
            client_ip: self
                .client_ip
                .then(|| {
                    req.extensions()
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip().to_string())
                })
                .flatten(),
            user_agent: self
                .user_agent
                .then(|| {
                    headers
                        .get(USER_AGENT)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                })
                .flatten(),
            headers: self
                .headers
                .iter()
                .filter_map(|name| Some((format!("header.{name}"), header_value(name, headers)?)))
                .collect(),
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn header_value(name: &HeaderName, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(name)?;
    if ALWAYS_REDACTED.contains(&name.as_str()) {
        return Some(REDACTED.to_owned());
    }
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// What the access log records about the request.
#[derive(Debug)]
pub(crate) struct RequestInfo {
    method: Method,
    path: String,
    route: Option<String>,
    request_bytes: Option<u64>,
    client_ip: Option<String>,
    user_agent: Option<String>,
    headers: Vec<(String, String)>,
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

/// Logs the access event for a response.
pub(crate) fn log_response<B: Body>(
    log: &Logger,
    info: RequestInfo,
    res: &Response<B>,
    latency: Duration,
) {
    let status = res.status();
    let response_bytes = res
        .body()
        .size_hint()
        .exact()
        .or_else(|| content_length(res.headers()));
    let event = log
        .event(level_for(status), "request completed")
        .field("status", status.as_u16());
    emit(event, info, Some(response_bytes), latency);
}

/// Logs the access event for a request whose service returned an error.
pub(crate) fn log_failure(log: &Logger, info: RequestInfo, latency: Duration) {
    let event = log.event(Level::Error, "request failed");
    emit(event, info, None, latency);
}

fn emit(
    event: fapilog_core::EventBuilder<'_>,
    info: RequestInfo,
    response_bytes: Option<Option<u64>>,
    latency: Duration,
) {
    let mut event = event
        .target(ACCESS_TARGET)
        .field("method", info.method.as_str())
        .field("route", info.route)
        .field("path", info.path)
        .field("latency_ms", latency.as_secs_f64() * 1000.0)
        .field("request_bytes", info.request_bytes);
    if let Some(bytes) = response_bytes {
        event = event.field("response_bytes", bytes);
    }
    if let Some(ip) = info.client_ip {
        event = event.field("client_ip", ip);
    }
    if let Some(ua) = info.user_agent {
        event = event.field("user_agent", ua);
    }
    for (key, value) in info.headers {
        event = event.field(key, value);
    }
    event.emit();
}
