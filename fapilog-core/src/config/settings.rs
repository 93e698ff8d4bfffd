//! The plain-data settings, section by section, with their defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::format::DEFAULT_MAX_STRING_BYTES;
use crate::pipeline::{
    DEFAULT_BATCH_SIZE, DEFAULT_CAPACITY, DEFAULT_DRAIN_DEADLINE, DEFAULT_FLUSH_INTERVAL,
    DEFAULT_MAX_CAPTURE_BYTES, DEFAULT_MAX_FIELDS,
};
use crate::process::{
    DEFAULT_AGGREGATION_KEYS, DEFAULT_AGGREGATION_THRESHOLD, DEFAULT_AGGREGATION_WINDOW,
    DEFAULT_REDACTED_FIELDS, DEFAULT_THROTTLE_BURST, DEFAULT_THROTTLE_KEYS,
    DEFAULT_THROTTLE_REFILL, MAX_AGGREGATION_COUNT,
};
use crate::sink::{DEFAULT_CREATE_DIRS, DEFAULT_FSYNC_ON_FLUSH, DEFAULT_RETAIN};

/// Default per-request buffer for error promotion (fapilog-axum's `DEFAULT_REQUEST_BUFFER`).
pub const DEFAULT_REQUEST_BUFFER: usize = 256;
/// Default global buffer for error promotion (fapilog-axum's `DEFAULT_GLOBAL_BUFFER`).
pub const DEFAULT_GLOBAL_BUFFER: usize = 65_536;
/// Largest per-request buffer accepted (fapilog-axum's `MAX_REQUEST_BUFFER`).
pub const MAX_REQUEST_BUFFER: usize = 65_536;
/// Largest global buffer accepted (fapilog-axum's `MAX_GLOBAL_BUFFER`).
pub const MAX_GLOBAL_BUFFER: usize = 1 << 24;
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
    /// What one event may hold when it is captured.
    pub limits: LimitSettings,
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
            limits: LimitSettings::default(),
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
    /// How many events the writer waits for before it writes (see `PipelineBuilder::batch_size`).
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

/// `[limits]`: what one event may hold when it is captured, before it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitSettings {
    /// Strings (message, keys, string values, error text) longer than this are cut at capture.
    pub max_string_bytes: usize,
    /// Fields beyond this many are dropped at capture and counted in `fields_truncated`.
    pub max_fields: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_string_bytes: DEFAULT_MAX_CAPTURE_BYTES,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

/// `[[sinks]]`: one destination and its format.
///
/// A setting the sink would not read (a `file` only one on another type,
/// `color` without the `pretty` format) is an error when the config is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SinkSettings {
    /// `stdout`, `stderr`, `file`, `null`, or a type registered in the [`SinkRegistry`](crate::config::SinkRegistry).
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
    /// Settings for a registered sink type, as strings; an error on a built-in type.
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

/// `[redaction]`: see [`Redactor`](crate::process::Redactor).
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
    /// Values of `name=value` pairs (query strings, `password=…` in text) and
    /// of `"name": value` members of JSON in text, whose name is redacted.
    pub secret_params: bool,
    /// Regexes whose matches are redacted.
    pub patterns: Vec<String>,
}

impl Default for RedactionSettings {
    fn default() -> Self {
        RedactionSettings {
            enabled: true,
            fields: DEFAULT_REDACTED_FIELDS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            extra_fields: Vec::new(),
            card_numbers: true,
            url_credentials: true,
            bearer_tokens: true,
            secret_params: true,
            patterns: Vec::new(),
        }
    }
}

/// `[aggregation]`: see [`Aggregator`](crate::process::Aggregator).
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
    /// An event with another correlation ID ends the group of the same
    /// target, level and message.
    pub flush_on_correlation_change: bool,
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
            flush_on_correlation_change: true,
        }
    }
}

/// `[throttling]`: see [`Throttle`](crate::process::Throttle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ThrottleSettings {
    /// Throttling on or off.
    pub enabled: bool,
    /// Tokens per key (1 to 1,000,000; a `u64` so that a larger value is
    /// refused by name, not as unreadable).
    pub burst: u64,
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
            burst: u64::from(DEFAULT_THROTTLE_BURST),
            refill_per_s: DEFAULT_THROTTLE_REFILL,
            key: "target_level".to_owned(),
            include_errors: false,
            max_keys: DEFAULT_THROTTLE_KEYS,
        }
    }
}

/// `[enrichers]`: see [`Enrichment`](crate::enrich::Enrichment).
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
