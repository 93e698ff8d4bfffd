//! `Config`: every pipeline setting as plain data, from code, a TOML file and
//! `FAPILOG_*` environment variables.
//!
//! Precedence, last wins: the defaults, then the TOML file, then the
//! environment (`FAPILOG_<SECTION>__<FIELD>`, e.g. `FAPILOG_QUEUE__CAPACITY`,
//! `FAPILOG_SAMPLING__RATE`, `FAPILOG_LEVEL`; a list is comma-separated, or a
//! TOML array of strings in brackets when an item holds a comma; a
//! sink's field is `FAPILOG_SINKS__<N>__<FIELD>`). Unknown keys and unknown
//! `FAPILOG_*` variables are errors, never ignored; every invalid value is an
//! error that names the setting, the value and what is allowed. So is a
//! setting nothing would read: a `file`-only setting on another sink type,
//! `color` without the `pretty` format, `options` on a built-in sink type, or a
//! setting of a section that is off by default given without saying
//! `enabled`. Every setting,
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

mod build;
mod env;
mod registry;
mod schema;
mod settings;
mod toml;

pub use build::{check_buffers, check_path_rule};
pub use registry::{SinkFactory, SinkRegistry};
pub use schema::Setting;
pub use settings::{
    AggregationSettings, Config, EnricherSettings, LimitSettings, QueueSettings, RedactionSettings,
    SamplingSettings, SinkSettings, ThrottleSettings, WriterSettings, DEFAULT_BLOCK_TIMEOUT_MS,
    DEFAULT_GLOBAL_BUFFER, DEFAULT_REQUEST_BUFFER, MAX_GLOBAL_BUFFER, MAX_REQUEST_BUFFER,
};
