//! `Config`: every pipeline setting as plain data, from code, a TOML file and
//! `FAPILOG_*` environment variables.
//!
//! Precedence, last wins: the defaults, then the TOML file, then the
//! environment (`FAPILOG_<SECTION>__<FIELD>`, e.g. `FAPILOG_QUEUE__CAPACITY`,
//! `FAPILOG_SAMPLING__RATE`, `FAPILOG_LEVEL`; a list is comma-separated; a
//! sink's field is `FAPILOG_SINKS__<N>__<FIELD>`). Unknown keys and unknown
//! `FAPILOG_*` variables are errors, never ignored; every invalid value is an
//! error that names the setting, the value and what is allowed. Every setting,
//! its type, default and variable is listed in `docs/configuration.md` and by
//! [`Config::settings`].
//!
//! [`Config::build`] starts the pipeline. Sink types are looked up in a
//! [`SinkRegistry`], where an application registers its own types by name.
//! Sampling settings are plain data here; `fapilog-axum` turns them into its
//! `SamplingConfig`.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::config::Config;
//!
//! let config = Config::from_toml_str(r#"
//!     level = "info,sqlx=warn"
//!
//!     [queue]
//!     capacity = 8192
//!     overflow = "drop_newest"
//!
//!     [[sinks]]
//!     type = "null"
//!
//!     [redaction]
//!     extra_fields = ["session_id"]
//! "#)?
//! .with_env([("FAPILOG_QUEUE__CAPACITY", "4096"), ("FAPILOG_SAMPLING__RATE", "0.25")])?;
//! assert_eq!(config.queue.capacity, 4096);
//! assert_eq!(config.sampling.rate, 0.25);
//!
//! let err = Config::from_toml_str("[queue]\ncapacty = 1").unwrap_err();
//! assert_eq!(err.setting(), "queue.capacty");
//!
//! let (pipeline, guard) = config.build()?;
//! pipeline.logger().info("configured");
//! assert_eq!(guard.shutdown(std::time::Duration::from_secs(5)).written, 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::enrich::Enrichment;
use crate::error::ConfigError;
use crate::filter::LevelDirectives;
use crate::format::{ColorChoice, Format, JsonFormat, LogfmtFormat, PrettyFormat, DEFAULT_MAX_STRING_BYTES};
use crate::pipeline::{
    OverflowPolicy, Pipeline, PipelineBuilder, WriterGuard, DEFAULT_BATCH_SIZE, DEFAULT_CAPACITY,
    DEFAULT_DRAIN_DEADLINE, DEFAULT_FLUSH_INTERVAL,
};
use crate::process::{
    Aggregator, Redactor, Throttle, ThrottleKey, DEFAULT_AGGREGATION_KEYS,
    DEFAULT_AGGREGATION_THRESHOLD, DEFAULT_AGGREGATION_WINDOW, DEFAULT_REDACTED_FIELDS,
    DEFAULT_THROTTLE_BURST, DEFAULT_THROTTLE_KEYS, DEFAULT_THROTTLE_REFILL, MAX_AGGREGATION_COUNT,
};
use crate::sink::{DEFAULT_CREATE_DIRS, DEFAULT_FSYNC_ON_FLUSH, DEFAULT_RETAIN};

mod env;
mod registry;
mod schema;
mod toml;

pub use registry::{SinkFactory, SinkRegistry};
pub use schema::Setting;

/// Default per-request buffer for error promotion (fapilog-axum's `DEFAULT_REQUEST_BUFFER`).
pub const DEFAULT_REQUEST_BUFFER: usize = 256;
/// Default global buffer for error promotion (fapilog-axum's `DEFAULT_GLOBAL_BUFFER`).
pub const DEFAULT_GLOBAL_BUFFER: usize = 65_536;
/// Default `Block` overflow timeout, in milliseconds.
pub const DEFAULT_BLOCK_TIMEOUT_MS: u64 = 100;

/// Every setting of a pipeline, as plain data.
///
/// Build one in code by changing fields of [`Config::default`], or load one
/// with [`Config::from_toml_str`], [`Config::from_file`] or [`Config::load`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// Level directives: `info`, or `info,sqlx=warn,my_app::db=debug`.
    pub level: String,
    /// The queue between callers and the writer.
    pub queue: QueueSettings,
    /// The writer thread.
    pub writer: WriterSettings,
    /// Where records go; none means JSON to stdout.
    pub sinks: Vec<SinkSettings>,
    /// Request sampling, read by `fapilog-axum`.
    pub sampling: SamplingSettings,
    /// Redaction of secrets.
    pub redaction: RedactionSettings,
    /// Aggregation of repetitive logs.
    pub aggregation: AggregationSettings,
    /// Throttling.
    pub throttling: ThrottleSettings,
    /// Built-in enrichers.
    pub enrichers: EnricherSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            level: "info".to_owned(),
            queue: QueueSettings::default(),
            writer: WriterSettings::default(),
            sinks: Vec::new(),
            sampling: SamplingSettings::default(),
            redaction: RedactionSettings::default(),
            aggregation: AggregationSettings::default(),
            throttling: ThrottleSettings::default(),
            enrichers: EnricherSettings::default(),
        }
    }
}

/// `[queue]`: capacity and overflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct QueueSettings {
    /// Events the queue holds.
    pub capacity: usize,
    /// Queue depth that wakes a lingering writer.
    pub batch_size: usize,
    /// `drop_oldest`, `drop_newest` or `block`.
    pub overflow: String,
    /// How long a caller may wait for room under `block`, in milliseconds.
    pub block_timeout_ms: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            capacity: DEFAULT_CAPACITY,
            batch_size: DEFAULT_BATCH_SIZE,
            overflow: "drop_oldest".to_owned(),
            block_timeout_ms: DEFAULT_BLOCK_TIMEOUT_MS,
        }
    }
}

/// `[writer]`: the writer thread's timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct WriterSettings {
    /// How long the writer lingers for a fuller batch, in milliseconds.
    pub flush_interval_ms: u64,
    /// How long a drain may take when the guard is dropped, in milliseconds.
    pub drain_deadline_ms: u64,
    /// The writer thread's name.
    pub thread_name: String,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            flush_interval_ms: millis(DEFAULT_FLUSH_INTERVAL),
            drain_deadline_ms: millis(DEFAULT_DRAIN_DEADLINE),
            thread_name: "fapilog-writer".to_owned(),
        }
    }
}

/// `[[sinks]]`: one destination and its format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SinkSettings {
    /// `stdout`, `stderr`, `file`, `null`, or a type registered in the [`SinkRegistry`].
    #[serde(rename = "type")]
    pub kind: String,
    /// `json`, `logfmt` or `pretty`.
    pub format: String,
    /// Strings longer than this many bytes are cut.
    pub max_string_bytes: usize,
    /// `pretty` only: `auto`, `always` or `never`.
    pub color: String,
    /// `file` only: the file's path.
    pub path: String,
    /// `file` only: rotate before the file grows past this many bytes; 0: no limit.
    pub max_bytes: u64,
    /// `file` only: `never`, `hourly` or `daily`.
    pub rotation: String,
    /// `file` only: rotated files kept.
    pub retain: usize,
    /// `file` only: create missing parent directories.
    pub create_dirs: bool,
    /// `file` only: `fsync` on flush.
    pub fsync_on_flush: bool,
    /// Settings for a registered sink type, as strings.
    pub options: BTreeMap<String, String>,
}

impl Default for SinkSettings {
    fn default() -> Self {
        SinkSettings {
            kind: "stdout".to_owned(),
            format: "json".to_owned(),
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            color: "auto".to_owned(),
            path: String::new(),
            max_bytes: 0,
            rotation: "never".to_owned(),
            retain: DEFAULT_RETAIN,
            create_dirs: DEFAULT_CREATE_DIRS,
            fsync_on_flush: DEFAULT_FSYNC_ON_FLUSH,
            options: BTreeMap::new(),
        }
    }
}

/// `[sampling]`: request sampling, applied by `fapilog-axum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SamplingSettings {
    /// Fraction of requests kept, 0.0 to 1.0.
    pub rate: f64,
    /// Path rules always kept (`/api/v1/payments*`).
    pub always_paths: Vec<String>,
    /// Path rules never kept (`/health`).
    pub never_paths: Vec<String>,
    /// Header with an upstream decision to trust; empty: none.
    pub trust_upstream: String,
    /// Events an unsampled request holds for error promotion.
    pub request_buffer: usize,
    /// Events all unsampled requests hold together.
    pub global_buffer: usize,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        SamplingSettings {
            rate: 1.0,
            always_paths: Vec::new(),
            never_paths: Vec::new(),
            trust_upstream: String::new(),
            request_buffer: DEFAULT_REQUEST_BUFFER,
            global_buffer: DEFAULT_GLOBAL_BUFFER,
        }
    }
}

/// `[redaction]`: see [`Redactor`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RedactionSettings {
    /// Redaction on or off.
    pub enabled: bool,
    /// Field names redacted (replaces the default list).
    pub fields: Vec<String>,
    /// More field names redacted (added to `fields`).
    pub extra_fields: Vec<String>,
    /// Luhn-valid card numbers in values.
    pub card_numbers: bool,
    /// Passwords in `scheme://user:password@host` URLs.
    pub url_credentials: bool,
    /// Tokens after `Bearer `.
    pub bearer_tokens: bool,
    /// Regexes whose matches are redacted.
    pub patterns: Vec<String>,
}

impl Default for RedactionSettings {
    fn default() -> Self {
        RedactionSettings {
            enabled: true,
            fields: DEFAULT_REDACTED_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            extra_fields: Vec::new(),
            card_numbers: true,
            url_credentials: true,
            bearer_tokens: true,
            patterns: Vec::new(),
        }
    }
}

/// `[aggregation]`: see [`Aggregator`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AggregationSettings {
    /// Aggregation on or off.
    pub enabled: bool,
    /// Targets that are system noise (`sqlx::pool`, `my_app::health`).
    pub targets: Vec<String>,
    /// Occurrences in a window still written one by one.
    pub threshold: usize,
    /// The window, in milliseconds.
    pub window_ms: u64,
    /// Most events one aggregated record stands for.
    pub max_count: u64,
    /// Most groups tracked.
    pub max_keys: usize,
}

impl Default for AggregationSettings {
    fn default() -> Self {
        AggregationSettings {
            enabled: false,
            targets: Vec::new(),
            threshold: DEFAULT_AGGREGATION_THRESHOLD,
            window_ms: millis(DEFAULT_AGGREGATION_WINDOW),
            max_count: MAX_AGGREGATION_COUNT,
            max_keys: DEFAULT_AGGREGATION_KEYS,
        }
    }
}

/// `[throttling]`: see [`Throttle`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ThrottleSettings {
    /// Throttling on or off.
    pub enabled: bool,
    /// Tokens per key.
    pub burst: u32,
    /// Tokens added per second.
    pub refill_per_s: f64,
    /// `target_level`, or `field:<name>`.
    pub key: String,
    /// Throttle ERROR and above too.
    pub include_errors: bool,
    /// Most keys tracked.
    pub max_keys: usize,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            enabled: false,
            burst: DEFAULT_THROTTLE_BURST,
            refill_per_s: DEFAULT_THROTTLE_REFILL,
            key: "target_level".to_owned(),
            include_errors: false,
            max_keys: DEFAULT_THROTTLE_KEYS,
        }
    }
}

/// `[enrichers]`: see [`Enrichment`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct EnricherSettings {
    /// `service.name`; empty: not written.
    pub service_name: String,
    /// `service.version`; empty: not written.
    pub service_version: String,
    /// `deployment.environment`; empty: not written.
    pub environment: String,
    /// `host.name`.
    pub hostname: bool,
    /// `process.pid`.
    pub pid: bool,
    /// `thread.name` (costs every enabled call a thread-local read).
    pub thread_name: bool,
    /// `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name` when present.
    pub kubernetes: bool,
}

impl Default for EnricherSettings {
    fn default() -> Self {
        EnricherSettings {
            service_name: String::new(),
            service_version: String::new(),
            environment: String::new(),
            hostname: true,
            pid: true,
            thread_name: false,
            kubernetes: true,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Checks that `value` is one of `allowed`, naming `setting` otherwise.
fn one_of<'a>(
    setting: impl Into<String>,
    value: &'a str,
    allowed: &[&str],
) -> Result<&'a str, ConfigError> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            setting.into(),
            format!("{value:?}"),
            format!("expected one of {}", allowed.join(", ")),
        ))
    }
}

impl Config {
    /// The level directives, parsed.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `level`.
    pub fn directives(&self) -> Result<LevelDirectives, ConfigError> {
        LevelDirectives::parse(&self.level)
    }

    /// The overflow policy, parsed.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `queue.overflow` or `queue.block_timeout_ms`.
    pub fn overflow(&self) -> Result<OverflowPolicy, ConfigError> {
        let overflow = &self.queue.overflow;
        Ok(
            match one_of("queue.overflow", overflow, &["drop_oldest", "drop_newest", "block"])? {
                "drop_newest" => OverflowPolicy::DropNewest,
                "block" => OverflowPolicy::Block {
                    timeout: positive_millis("queue.block_timeout_ms", self.queue.block_timeout_ms)?,
                },
                _ => OverflowPolicy::DropOldest,
            },
        )
    }

    /// The redactor these settings describe.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `redaction.patterns` for a regex that does not compile.
    pub fn redactor(&self) -> Result<Redactor, ConfigError> {
        let r = &self.redaction;
        if !r.enabled {
            return Ok(Redactor::disabled());
        }
        let mut redactor = Redactor::new()
            .fields(r.fields.iter().chain(&r.extra_fields))
            .card_numbers(r.card_numbers)
            .url_credentials(r.url_credentials)
            .bearer_tokens(r.bearer_tokens);
        for pattern in &r.patterns {
            redactor = redactor.pattern(pattern)?;
        }
        Ok(redactor)
    }

    /// The aggregator these settings describe, `None` when off.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `aggregation.*` setting at fault.
    pub fn aggregator(&self) -> Result<Option<Aggregator>, ConfigError> {
        let a = &self.aggregation;
        if !a.enabled {
            return Ok(None);
        }
        if a.targets.is_empty() {
            return Err(ConfigError::invalid(
                "aggregation.targets",
                "[]",
                "must name at least one target when aggregation.enabled is true",
            ));
        }
        let aggregator = Aggregator::new(a.targets.iter().cloned())
            .threshold(a.threshold)
            .window(Duration::from_millis(a.window_ms))
            .max_count(a.max_count)
            .max_keys(a.max_keys);
        aggregator.validate()?;
        Ok(Some(aggregator))
    }

    /// The throttle these settings describe, `None` when off.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `throttling.*` setting at fault.
    pub fn throttle(&self) -> Result<Option<Throttle>, ConfigError> {
        let t = &self.throttling;
        if !t.enabled {
            return Ok(None);
        }
        let key = match t.key.strip_prefix("field:") {
            Some(name) => ThrottleKey::Field(name.trim().to_owned()),
            None if t.key == "target_level" => ThrottleKey::TargetLevel,
            None => {
                return Err(ConfigError::invalid(
                    "throttling.key",
                    format!("{:?}", t.key),
                    "expected \"target_level\" or \"field:<name>\"",
                ))
            }
        };
        let throttle = Throttle::new(t.burst, t.refill_per_s)
            .key(key)
            .include_errors(t.include_errors)
            .max_keys(t.max_keys);
        throttle.validate()?;
        Ok(Some(throttle))
    }

    /// The built-in enrichers these settings describe.
    pub fn enrichment(&self) -> Enrichment {
        let e = &self.enrichers;
        Enrichment::new()
            .service_name(e.service_name.as_str())
            .service_version(e.service_version.as_str())
            .environment(e.environment.as_str())
            .hostname(e.hostname)
            .pid(e.pid)
            .thread_name(e.thread_name)
            .kubernetes(e.kubernetes)
    }

    /// Checks every setting that does not need a resource (files are opened by
    /// [`build`](Self::build)), with the built-in sink types.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check(&SinkRegistry::new())
    }

    fn check(&self, registry: &SinkRegistry) -> Result<(), ConfigError> {
        self.directives()?;
        self.overflow()?;
        positive_millis("writer.flush_interval_ms", self.writer.flush_interval_ms)?;
        self.redactor()?;
        self.aggregator()?;
        self.throttle()?;
        let s = &self.sampling;
        if !(0.0..=1.0).contains(&s.rate) {
            return Err(ConfigError::invalid(
                "sampling.rate",
                s.rate,
                "must be a number from 0.0 to 1.0",
            ));
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            registry.check_type(index, &sink.kind)?;
            format_for(index, sink)?;
        }
        Ok(())
    }

    /// A pipeline builder with every setting applied, the built-in sink types only.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn pipeline_builder(&self) -> Result<PipelineBuilder, ConfigError> {
        self.pipeline_builder_with(&SinkRegistry::new())
    }

    /// A pipeline builder with every setting applied, sink types looked up in `registry`.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting; a sink that cannot
    /// be opened is an error too.
    pub fn pipeline_builder_with(
        &self,
        registry: &SinkRegistry,
    ) -> Result<PipelineBuilder, ConfigError> {
        self.check(registry)?;
        let mut builder = Pipeline::builder()
            .directives(self.directives()?)
            .capacity(self.queue.capacity)
            .batch_size(self.queue.batch_size)
            .overflow(self.overflow()?)
            .flush_interval(Duration::from_millis(self.writer.flush_interval_ms))
            .drain_deadline(Duration::from_millis(self.writer.drain_deadline_ms))
            .thread_name(self.writer.thread_name.clone())
            .redaction(self.redactor()?)
            .enrichment(self.enrichment());
        if let Some(aggregator) = self.aggregator()? {
            builder = builder.aggregation(aggregator);
        }
        if let Some(throttle) = self.throttle()? {
            builder = builder.throttle(throttle);
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            let format = format_for(index, sink)?;
            builder = builder.boxed_sink(registry.build(index, sink)?, format);
        }
        Ok(builder)
    }

    /// Starts the pipeline these settings describe (built-in sink types).
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn build(&self) -> Result<(Pipeline, WriterGuard), ConfigError> {
        self.pipeline_builder()?.build()
    }

    /// Starts the pipeline these settings describe, sink types looked up in `registry`.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn build_with(&self, registry: &SinkRegistry) -> Result<(Pipeline, WriterGuard), ConfigError> {
        self.pipeline_builder_with(registry)?.build()
    }
}

fn positive_millis(setting: &'static str, ms: u64) -> Result<Duration, ConfigError> {
    if ms == 0 {
        return Err(ConfigError::invalid(setting, ms, "must be at least 1 (milliseconds)"));
    }
    Ok(Duration::from_millis(ms))
}

/// The format of sink `index`.
fn format_for(index: usize, sink: &SinkSettings) -> Result<Box<dyn Format>, ConfigError> {
    let setting = |field: &str| format!("sinks[{index}].{field}");
    if sink.max_string_bytes == 0 {
        return Err(ConfigError::invalid(
            setting("max_string_bytes"),
            0,
            "must be at least 1",
        ));
    }
    let max = sink.max_string_bytes;
    Ok(
        match one_of(setting("format"), &sink.format, &["json", "logfmt", "pretty"])? {
            "logfmt" => Box::new(LogfmtFormat::new().max_string_bytes(max)),
            "pretty" => {
                let color = match one_of(setting("color"), &sink.color, &["auto", "always", "never"])? {
                    "always" => ColorChoice::Always,
                    "never" => ColorChoice::Never,
                    _ => ColorChoice::Auto,
                };
                Box::new(PrettyFormat::new().color(color).max_string_bytes(max))
            }
            _ => Box::new(JsonFormat::new().max_string_bytes(max)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigErrorKind;

    fn error_for(toml: &str) -> ConfigError {
        Config::from_toml_str(toml)
            .and_then(|c| c.validate().map(|()| c))
            .unwrap_err()
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(Config::from_toml_str("").unwrap(), config);
    }

    #[test]
    fn bad_values_name_the_setting_the_value_and_what_is_allowed() {
        let cases = [
            ("level = \"loud\"", "level", "\"loud\""),
            ("[queue]\noverflow = \"drop_all\"", "queue.overflow", "drop_oldest, drop_newest, block"),
            ("[queue]\noverflow = \"block\"\nblock_timeout_ms = 0", "queue.block_timeout_ms", "at least 1"),
            ("[sampling]\nrate = 1.5", "sampling.rate", "0.0 to 1.0"),
            ("[redaction]\npatterns = [\"(\"]", "redaction.patterns", "valid regex"),
            ("[aggregation]\nenabled = true", "aggregation.targets", "at least one target"),
            ("[aggregation]\nenabled = true\ntargets = [\"db\"]\nwindow_ms = 20000", "aggregation.window_ms", "10000"),
            ("[throttling]\nenabled = true\nkey = \"user\"", "throttling.key", "field:<name>"),
            ("[throttling]\nenabled = true\nburst = 0", "throttling.burst", "between 1"),
            ("[[sinks]]\ntype = \"kafka\"", "sinks[0].type", "file, null, stderr, stdout"),
            ("[[sinks]]\nformat = \"xml\"", "sinks[0].format", "json, logfmt, pretty"),
            ("[[sinks]]\nformat = \"pretty\"\ncolor = \"rainbow\"", "sinks[0].color", "auto, always, never"),
            ("[queue]\ncapacity = \"big\"", "queue.capacity", "expected an integer"),
            ("[queue]\ncapacity = -1", "queue.capacity", "non-negative"),
            ("[redaction]\nfields = \"password\"", "redaction.fields", "expected a list of strings"),
        ];
        for (toml, setting, allowed) in cases {
            let err = error_for(toml);
            assert_eq!(err.setting(), setting, "{toml}: {err}");
            assert_eq!(err.kind(), ConfigErrorKind::InvalidValue, "{toml}");
            assert!(err.to_string().contains(allowed), "{toml}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        for (toml, setting) in [
            ("levle = \"info\"", "levle"),
            ("[queue]\ncapacty = 1", "queue.capacty"),
            ("[queeu]\ncapacity = 1", "queeu"),
            ("[[sinks]]\ntype = \"file\"\npth = \"x\"", "sinks[0].pth"),
        ] {
            let err = Config::from_toml_str(toml).unwrap_err();
            assert_eq!(err.kind(), ConfigErrorKind::UnknownSetting, "{toml}");
            assert_eq!(err.setting(), setting);
            assert!(err.to_string().contains("expected one of"), "{err}");
        }
        let err = Config::from_toml_str("[queue\n").unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Syntax);
    }

    #[test]
    fn settings_become_a_pipeline() {
        let config = Config::from_toml_str(
            r#"
            level = "warn,my_app::db=debug"
            [queue]
            overflow = "block"
            [[sinks]]
            type = "null"
            format = "logfmt"
            [aggregation]
            enabled = true
            targets = ["sqlx::pool"]
            [throttling]
            enabled = true
            key = "field:user_id"
            [enrichers]
            service_name = "checkout"
            "#,
        )
        .unwrap();
        let (pipeline, guard) = config.build().unwrap();
        assert!(pipeline.enabled_for(crate::Level::Debug, Some("my_app::db")));
        assert!(!pipeline.enabled(crate::Level::Info));
        let text = format!("{:?}", config.pipeline_builder().unwrap());
        assert!(text.contains("aggregation: Some"), "{text}");
        assert!(text.contains("throttle: Some"), "{text}");
        drop(guard);
    }
}
