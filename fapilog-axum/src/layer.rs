//! `FapilogLayer`: configuration only; `layer` wraps a service in a [`FapilogService`].

use std::sync::Arc;

use fapilog_core::{ConfigError, Logger, Pipeline};
use tower_layer::Layer;

use crate::access_log::AccessLogConfig;
use crate::correlation::CorrelationConfig;
use crate::lifecycle::default_pipeline;
use crate::metrics::LayerCounters;
use crate::request::HoldBudget;
use crate::sampling::SamplingConfig;
use crate::service::FapilogService;
use crate::wall_clock::WallClock;

/// Default number of events an unsampled request may hold for error promotion.
pub const DEFAULT_REQUEST_BUFFER: usize = 256;
/// Largest per-request buffer accepted.
pub const MAX_REQUEST_BUFFER: usize = fapilog_core::config::MAX_REQUEST_BUFFER;
/// Default number of events all unsampled requests together may hold.
pub const DEFAULT_GLOBAL_BUFFER: usize = 65_536;
/// Largest global buffer accepted.
pub const MAX_GLOBAL_BUFFER: usize = fapilog_core::config::MAX_GLOBAL_BUFFER;
/// The response header that says whether the request's logs were kept.
pub const SAMPLED_HEADER: &str = "x-log-sampled";

/// The layer's settings, shared by every service it makes.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pipeline: Pipeline,
    pub(crate) root_logger: Logger,
    pub(crate) correlation: CorrelationConfig,
    pub(crate) sampling: SamplingConfig,
    pub(crate) access_log: AccessLogConfig,
    pub(crate) budget: HoldBudget,
    pub(crate) counters: Arc<LayerCounters>,
    pub(crate) catch_panics: bool,
    pub(crate) wall_clock: WallClock,
}

/// Gives every request a correlation ID, a request-scoped `Logger`, one
/// sampling decision with error promotion, an access-log event and the
/// `x-request-id` / `X-Log-Sampled` response headers.
///
/// ```
/// use axum::{routing::get, Router};
/// use fapilog_axum::FapilogLayer;
/// use fapilog_core::{info, Logger};
///
/// async fn hello(log: Logger) -> &'static str {
///     info!(log, "saying hello");
///     "hello"
/// }
///
/// let app: Router = Router::new().route("/", get(hello)).layer(FapilogLayer::new());
/// ```
///
/// With an explicit pipeline and sampling:
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_axum::{FapilogLayer, SamplingConfig};
/// use fapilog_core::Pipeline;
///
/// let (pipeline, _guard) = Pipeline::builder().build()?;
/// let layer = FapilogLayer::builder()
///     .pipeline(pipeline)
///     .sampling(
///         SamplingConfig::new()
///             .rate(0.1)?
///             .always_path("/api/v1/payments*")?
///             .never_path("/health")?,
///     )
///     .build()?;
/// # let _ = layer; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FapilogLayer {
    shared: Arc<Shared>,
}

impl FapilogLayer {
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The zero-config layer: JSON to stdout at INFO on the shared default
    /// pipeline, sample rate 1.0, access log on.
    pub fn new() -> Self {
        FapilogLayerBuilder::default().finish(default_pipeline())
    }

    /// A builder with every setting at its default.
    pub fn builder() -> FapilogLayerBuilder {
        FapilogLayerBuilder::default()
    }

    /// The pipeline this layer logs into.
    pub fn pipeline(&self) -> &Pipeline {
        &self.shared.pipeline
    }

    /// How this layer reads and generates correlation IDs (its header name, for one).
    pub fn correlation(&self) -> &CorrelationConfig {
        &self.shared.correlation
    }

    /// This layer's sampling rate and path rules.
    pub fn sampling(&self) -> &SamplingConfig {
        &self.shared.sampling
    }
}

impl Default for FapilogLayer {
    fn default() -> Self {
        FapilogLayer::new()
    }
}

impl<S> Layer<S> for FapilogLayer {
    type Service = FapilogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FapilogService::new(inner, Arc::clone(&self.shared))
    }
}

/// Builds a [`FapilogLayer`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct FapilogLayerBuilder {
    pipeline: Option<Pipeline>,
    correlation: CorrelationConfig,
    sampling: SamplingConfig,
    access_log: AccessLogConfig,
    request_buffer: usize,
    global_buffer: usize,
    catch_panics: bool,
}

impl Default for FapilogLayerBuilder {
    fn default() -> Self {
        FapilogLayerBuilder {
            pipeline: None,
            correlation: CorrelationConfig::new(),
            sampling: SamplingConfig::new(),
            access_log: AccessLogConfig::new(),
            request_buffer: DEFAULT_REQUEST_BUFFER,
            global_buffer: DEFAULT_GLOBAL_BUFFER,
            catch_panics: true,
        }
    }
}

impl FapilogLayerBuilder {
    /// The pipeline to log into. Default: the shared default pipeline.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline);
        self
    }

    /// How correlation IDs are read and generated. Default: `x-request-id`, UUID v7.
    pub fn correlation(mut self, config: CorrelationConfig) -> Self {
        self.correlation = config;
        self
    }

    /// The sampling rate and path rules. Default: rate 1.0, no rules.
    pub fn sampling(mut self, config: SamplingConfig) -> Self {
        self.sampling = config;
        self
    }

    /// The core configuration's `[sampling]` section: rate, path rules,
    /// trusted upstream header and both buffers.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `sampling.*` setting at fault (buffers are
    /// checked by [`build`](Self::build)).
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use fapilog_axum::FapilogLayer;
    /// use fapilog_core::config::Config;
    ///
    /// let config = Config::from_toml_str("[sampling]\nrate = 0.25\nrequest_buffer = 64")?
    ///     .with_env([("FAPILOG_SAMPLING__NEVER_PATHS", "/health")])?;
    /// let (pipeline, _guard) = config.build()?;
    /// let layer = FapilogLayer::builder()
    ///     .pipeline(pipeline)
    ///     .sampling_settings(&config.sampling)?
    ///     .build()?;
    /// # let _ = layer; Ok(()) }
    /// ```
    pub fn sampling_settings(
        mut self,
        settings: &fapilog_core::config::SamplingSettings,
    ) -> Result<Self, ConfigError> {
        self.sampling = SamplingConfig::try_from(settings)?;
        self.request_buffer = settings.request_buffer;
        self.global_buffer = settings.global_buffer;
        Ok(self)
    }

    /// What the access log records. Default: on, no client IP, user agent or headers.
    pub fn access_log(mut self, config: AccessLogConfig) -> Self {
        self.access_log = config;
        self
    }

    /// Events an unsampled request holds for promotion; the oldest is
    /// overwritten (and counted) beyond it. Default: [`DEFAULT_REQUEST_BUFFER`].
    pub fn request_buffer(mut self, events: usize) -> Self {
        self.request_buffer = events;
        self
    }

    /// Events all unsampled requests of this layer may hold together (each
    /// layer built has its own budget). Default: [`DEFAULT_GLOBAL_BUFFER`].
    pub fn global_buffer(mut self, events: usize) -> Self {
        self.global_buffer = events;
        self
    }

    /// Catch handler panics: log them at ERROR, promote the request, answer 500.
    /// A panic is caught both in the inner service's `call` (a
    /// `tower::service_fn` handler runs there) and in its future (where
    /// axum runs handlers). Default: true.
    pub fn catch_panics(mut self, on: bool) -> Self {
        self.catch_panics = on;
        self
    }

    /// Checks the settings and returns the layer.
    pub fn build(mut self) -> Result<FapilogLayer, ConfigError> {
        fapilog_core::config::check_buffers(self.request_buffer, self.global_buffer)?;
        let pipeline = self.pipeline.take().unwrap_or_else(default_pipeline);
        Ok(self.finish(pipeline))
    }

    fn finish(self, pipeline: Pipeline) -> FapilogLayer {
        if self.catch_panics {
            crate::panic::install_hook();
        }
        // Layers on one pipeline share its counters: building many adds no source each.
        let counters = pipeline.metrics_source::<LayerCounters>();
        FapilogLayer {
            shared: Arc::new(Shared {
                root_logger: pipeline.logger(),
                pipeline,
                correlation: self.correlation,
                sampling: self.sampling,
                access_log: self.access_log,
                budget: HoldBudget::new(self.request_buffer, self.global_buffer),
                counters,
                catch_panics: self.catch_panics,
                wall_clock: WallClock::new(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fapilog_core::config::{
        Config, DEFAULT_GLOBAL_BUFFER as CORE_GLOBAL, DEFAULT_REQUEST_BUFFER as CORE_REQUEST,
    };

    #[test]
    fn core_sampling_defaults_match_the_layer_defaults() {
        assert_eq!(CORE_REQUEST, DEFAULT_REQUEST_BUFFER);
        assert_eq!(CORE_GLOBAL, DEFAULT_GLOBAL_BUFFER);
    }

    #[test]
    fn sampling_settings_errors_name_the_setting() {
        let bad = |toml: &str| {
            let config = Config::from_toml_str(toml).unwrap();
            FapilogLayer::builder()
                .pipeline(Pipeline::closed())
                .sampling_settings(&config.sampling)
                .and_then(FapilogLayerBuilder::build)
                .unwrap_err()
                .setting()
                .to_owned()
        };
        assert_eq!(bad("[sampling]\nrate = 2.0"), "sampling.rate");
        assert_eq!(
            bad("[sampling]\nalways_paths = [\"pay\"]"),
            "sampling.always_paths"
        );
        assert_eq!(
            bad("[sampling]\ntrust_upstream = \"bad header\""),
            "sampling.trust_upstream"
        );
        assert_eq!(
            bad("[sampling]\nrequest_buffer = 0"),
            "sampling.request_buffer"
        );
    }

    #[test]
    fn layers_on_one_pipeline_share_its_counters() {
        let (pipeline, _guard) = Pipeline::builder().build().unwrap();
        let layers: Vec<FapilogLayer> = (0..3)
            .map(|_| {
                FapilogLayer::builder()
                    .pipeline(pipeline.clone())
                    .build()
                    .unwrap()
            })
            .collect();
        for layer in &layers[1..] {
            assert!(Arc::ptr_eq(
                &layer.shared.counters,
                &layers[0].shared.counters
            ));
        }
        let (other, _guard) = Pipeline::builder().build().unwrap();
        let apart = FapilogLayer::builder().pipeline(other).build().unwrap();
        assert!(!Arc::ptr_eq(
            &apart.shared.counters,
            &layers[0].shared.counters
        ));
    }
}
