//! [`TestApp`]: an Axum `Router` behind `FapilogLayer` on a private pipeline, for tests.
//!
//! The fixture wraps your router in a [`FapilogLayer`] that logs into its own
//! [`LogCapture`] (a private pipeline and [`MemorySink`]), sends requests with
//! `tower::ServiceExt::oneshot`, and reads back the events each request
//! logged. Two fixtures never share a pipeline, so tests running in parallel
//! in one test binary never see each other's events.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! use fapilog_core::{info, Logger};
//! use fapilog_testing::TestApp;
//!
//! async fn order(log: Logger) -> &'static str {
//!     info!(log, "fetching order", order_id = 7u64);
//!     "order 7"
//! }
//!
//! let app = TestApp::new(Router::new().route("/orders/7", get(order)))?;
//! let res = app.get("/orders/7").await?;
//! assert_eq!(res.status(), 200);
//! let id = res.correlation_id().unwrap().to_owned();
//! let events = app.flush()?.by_correlation_id(&id);
//! assert_eq!(events[0].message, "fetching order");
//! assert_eq!(events[0].field("order_id"), Some(&serde_json::json!(7)));
//! assert_eq!(events[1].message, "request completed"); // the access log
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;

use axum::body::Body;
use axum::Router;
use fapilog_axum::{FapilogLayer, FapilogLayerBuilder, SamplingConfig, SAMPLED_HEADER};
use fapilog_core::pipeline::{MetricsSnapshot, PipelineBuilder};
use fapilog_core::{ConfigError, LevelFilter, Logger};
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use tower::ServiceExt;

use crate::capture::{FlushError, LogCapture, LogCaptureBuilder};
use crate::fault::Faults;
use crate::memory_sink::MemorySink;

/// The largest response body [`TestResponse::text`] reads: 16 MiB.
pub const MAX_TEST_BODY: usize = 16 << 20;

type LayerConfig = Box<dyn FnOnce(FapilogLayerBuilder) -> FapilogLayerBuilder + Send>;

/// A router wrapped in `FapilogLayer` on a private pipeline, with the events it logged.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{routing::get, Router};
/// use fapilog_core::{warn, Level, Logger};
/// use fapilog_testing::TestApp;
///
/// async fn legacy(log: Logger) -> &'static str {
///     warn!(log, "legacy endpoint used");
///     "ok"
/// }
///
/// let app = TestApp::new(Router::new().route("/legacy", get(legacy)))?;
/// app.get_with_id("/legacy", "req-1").await?;
/// let logs = app.flush_async().await?;
/// assert_eq!(logs.by_level(Level::Warn)[0].correlation_id.as_deref(), Some("req-1"));
/// assert_eq!(app.metrics().written, 2); // the warning and the access log
/// # Ok(()) }
/// ```
pub struct TestApp {
    router: Router,
    layer: FapilogLayer,
    capture: LogCapture,
}

impl TestApp {
    /// Wraps `router` with the layer's default settings (sample rate 1.0,
    /// access log on), capturing every level.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the private pipeline cannot be started.
    pub fn new(router: Router) -> Result<TestApp, ConfigError> {
        TestApp::builder(router).build()
    }

    /// A builder to adjust the layer and the capture before wrapping `router`.
    pub fn builder(router: Router) -> TestAppBuilder {
        TestAppBuilder {
            router,
            capture: LogCapture::builder(),
            layer: None,
        }
    }

    /// Sends `request` through the app (`oneshot` on a clone of the router).
    ///
    /// Returns once the app has answered, before the body is read. A body of
    /// unknown size (a stream) is logged when it ends, as over a real
    /// connection: read it ([`TestResponse::text`]) before
    /// [`flush`](Self::flush) to see its access event.
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let result: Result<Response<Body>, Infallible> = self.router.clone().oneshot(request).await;
        let response = match result {
            Ok(response) => response,
            Err(never) => match never {},
        };
        TestResponse {
            response,
            correlation_header: self.layer.correlation().header_name().clone(),
        }
    }

    /// Sends `GET uri`.
    ///
    /// # Errors
    ///
    /// An [`http::Error`] if `uri` is not a valid request target.
    pub async fn get(&self, uri: &str) -> Result<TestResponse, http::Error> {
        let request = Request::get(uri).body(Body::empty())?;
        Ok(self.request(request).await)
    }

    /// Sends `GET uri` with `id` as the request's correlation ID header.
    ///
    /// # Errors
    ///
    /// An [`http::Error`] if `uri` is not a valid request target or `id` not a valid header value.
    pub async fn get_with_id(&self, uri: &str, id: &str) -> Result<TestResponse, http::Error> {
        let request = Request::get(uri)
            .header(self.layer.correlation().header_name(), id)
            .body(Body::empty())?;
        Ok(self.request(request).await)
    }

    /// Waits until every event submitted so far has reached the sink, then
    /// returns the sink: every event of every request that has answered,
    /// except the access event of a streamed body not yet read to its end
    /// (see [`request`](Self::request)).
    ///
    /// # Errors
    ///
    /// [`FlushError`] if the writer did not finish within the flush timeout.
    pub fn flush(&self) -> Result<&MemorySink, FlushError> {
        self.capture.flush()
    }

    /// [`flush`](Self::flush), waiting on Tokio's blocking pool.
    ///
    /// # Errors
    ///
    /// [`FlushError`] as for [`LogCapture::flush_async`].
    pub async fn flush_async(&self) -> Result<&MemorySink, FlushError> {
        self.capture.flush_async().await
    }

    /// The wrapped router: serve it on a real listener to test over TCP.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The layer the router is wrapped in.
    pub fn layer(&self) -> &FapilogLayer {
        &self.layer
    }

    /// The private capture (pipeline and sink).
    pub fn capture(&self) -> &LogCapture {
        &self.capture
    }

    /// A logger on the private pipeline, for code outside requests (no correlation ID).
    pub fn logger(&self) -> Logger {
        self.capture.logger()
    }

    /// The pipeline's counters, with the layer's request counters in `extra`.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.capture.metrics()
    }
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("layer", &self.layer)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TestApp`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{routing::get, Router};
/// use fapilog_axum::{AccessLogConfig, SamplingConfig};
/// use fapilog_testing::TestApp;
///
/// let router = Router::new().route("/", get(|| async { "ok" }));
/// let app = TestApp::builder(router)
///     .sampling(SamplingConfig::new().rate(0.0)?)
///     .layer(|b| b.access_log(AccessLogConfig::new().enabled(false)).request_buffer(64))
///     .level(fapilog_core::Level::Info)
///     .build()?;
/// assert_eq!(app.layer().sampling().get_rate().get(), 0.0);
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct TestAppBuilder {
    router: Router,
    capture: LogCaptureBuilder,
    layer: Option<LayerConfig>,
}

impl TestAppBuilder {
    /// Adjusts the `FapilogLayer` (sampling, access log, correlation, buffers…).
    /// Calls add up, in order. The pipeline is always the fixture's private
    /// one, whatever a closure sets. Default: the layer's defaults.
    pub fn layer(
        mut self,
        configure: impl FnOnce(FapilogLayerBuilder) -> FapilogLayerBuilder + Send + 'static,
    ) -> Self {
        self.layer = Some(match self.layer.take() {
            None => Box::new(configure),
            Some(before) => Box::new(move |b| configure(before(b))),
        });
        self
    }

    /// Shorthand for `.layer(|b| b.sampling(config))`. Default: rate 1.0, no rules.
    pub fn sampling(self, config: SamplingConfig) -> Self {
        self.layer(move |b| b.sampling(config))
    }

    /// The minimum level captured. Default: TRACE.
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.capture = self.capture.level(level);
        self
    }

    /// Faults injected into the capture's sink. Default: none.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.capture = self.capture.faults(faults);
        self
    }

    /// Adjusts the private pipeline (capacity, overflow policy, …). Default: the pipeline defaults.
    pub fn pipeline(
        mut self,
        configure: impl FnOnce(PipelineBuilder) -> PipelineBuilder + Send + 'static,
    ) -> Self {
        self.capture = self.capture.pipeline(configure);
        self
    }

    /// Starts the private pipeline and wraps the router.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting, from the pipeline's or the layer's checks.
    pub fn build(self) -> Result<TestApp, ConfigError> {
        let capture = self.capture.build()?;
        let mut builder = FapilogLayer::builder();
        if let Some(configure) = self.layer {
            builder = configure(builder);
        }
        let layer = builder.pipeline(capture.pipeline().clone()).build()?;
        Ok(TestApp {
            router: self.router.layer(layer.clone()),
            layer,
            capture,
        })
    }
}

impl fmt::Debug for TestAppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestAppBuilder")
            .field("capture", &self.capture)
            .field("layer", &self.layer.as_ref().map(|_| "<closure>"))
            .finish_non_exhaustive()
    }
}

/// A response from a [`TestApp`], with the fapilog headers at hand.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{routing::get, Router};
/// use fapilog_testing::TestApp;
///
/// let app = TestApp::new(Router::new().route("/", get(|| async { "hello" })))?;
/// let res = app.get_with_id("/", "req-42").await?;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.correlation_id(), Some("req-42"));
/// assert_eq!(res.sampled(), Some(true));
/// assert_eq!(res.text().await?, "hello");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestResponse {
    response: Response<Body>,
    correlation_header: HeaderName,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The value of header `name`, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    }

    /// The correlation ID the layer echoed (the layer's correlation header).
    pub fn correlation_id(&self) -> Option<&str> {
        self.response
            .headers()
            .get(&self.correlation_header)
            .and_then(|v| v.to_str().ok())
    }

    /// `X-Log-Sampled`: whether the request's logs were kept.
    pub fn sampled(&self) -> Option<bool> {
        match self.header(SAMPLED_HEADER)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The response itself.
    pub fn response(&self) -> &Response<Body> {
        &self.response
    }

    /// The response itself, by value.
    pub fn into_response(self) -> Response<Body> {
        self.response
    }

    /// Reads the body (at most [`MAX_TEST_BODY`] bytes) as text; invalid UTF-8 is replaced.
    ///
    /// # Errors
    ///
    /// An [`axum::Error`] if the body fails or is longer than the limit.
    pub async fn text(self) -> Result<String, axum::Error> {
        let bytes = axum::body::to_bytes(self.response.into_body(), MAX_TEST_BODY).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use fapilog_axum::CorrelationConfig;
    use fapilog_core::format::JsonFormat;
    use fapilog_core::pipeline::Pipeline;
    use fapilog_core::sink::NullSink;

    fn router() -> Router {
        Router::new().route("/", get(|| async { "ok" }))
    }

    #[tokio::test]
    async fn the_private_pipeline_wins_over_a_layer_closure() {
        let (elsewhere, _guard) = Pipeline::builder()
            .sink(NullSink::new(), JsonFormat::new())
            .build()
            .unwrap();
        let given = elsewhere.clone();
        let app = TestApp::builder(router())
            .layer(move |b| b.pipeline(given))
            .build()
            .unwrap();
        assert!(app.layer().pipeline().same_as(app.capture().pipeline()));
        app.get("/").await.unwrap();
        assert_eq!(app.flush().unwrap().count(), 1);
        assert_eq!(elsewhere.metrics().submitted, 0);
    }

    #[tokio::test]
    async fn a_custom_correlation_header_is_sent_and_read_back() {
        let app = TestApp::builder(router())
            .layer(|b| b.correlation(CorrelationConfig::new().header("x-trace-id").unwrap()))
            .build()
            .unwrap();
        let res = app.get_with_id("/", "trace-1").await.unwrap();
        assert_eq!(res.correlation_id(), Some("trace-1"));
        assert_eq!(res.header("x-trace-id"), Some("trace-1"));
        assert!(res.header("x-request-id").is_none());
        let access = app.flush().unwrap().by_correlation_id("trace-1");
        assert_eq!(access[0].message, "request completed");
        assert!(app.get("not a uri").await.is_err());
    }
}
