//! `SinkRegistry`: sink types a configuration can name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::config::SinkSettings;
use crate::error::ConfigError;
use crate::sink::{FileSink, FileSinkBuilder, NullSink, Rotation, Sink, StderrSink, StdoutSink};

/// Makes a sink from its `[[sinks]]` settings (`options` holds the type's own).
pub type SinkFactory = dyn Fn(&SinkSettings) -> Result<Box<dyn Sink>, ConfigError> + Send + Sync;

/// The sink types a configuration may name in `sinks[].type`: the built-in
/// `stdout`, `stderr`, `file` and `null`, and any the application registers.
///
/// A factory's errors about `file.path`-style settings are reported as
/// `sinks[N].path`; an error naming `options.<key>` becomes `sinks[N].options.<key>`.
/// `options` given to a built-in type are an error (nothing would read them);
/// registering a factory under a built-in name makes that type take them.
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::config::{Config, SinkRegistry};
/// use fapilog_core::sink::{MemorySink, Sink};
/// use fapilog_core::ConfigError;
///
/// let captured = MemorySink::new();
/// let shared = captured.clone();
/// let registry = SinkRegistry::new().register("audit", move |settings| {
///     match settings.options.get("tenant").map(String::as_str) {
///         Some("") | None => Err(ConfigError::invalid("options.tenant", "\"\"", "required")),
///         Some(_) => Ok(Box::new(shared.clone()) as Box<dyn Sink>),
///     }
/// });
/// let config = Config::from_toml_str("[[sinks]]\ntype = \"audit\"\noptions = { tenant = \"acme\" }")?;
/// let (pipeline, guard) = config.build_with(&registry)?;
/// pipeline.logger().info("audited");
/// guard.shutdown(std::time::Duration::from_secs(5));
/// assert_eq!(captured.lines().len(), 1);
///
/// let missing = Config::from_toml_str("[[sinks]]\ntype = \"audit\"")?;
/// assert_eq!(missing.build_with(&registry).unwrap_err().setting(), "sinks[0].options.tenant");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SinkRegistry {
    factories: BTreeMap<String, Arc<SinkFactory>>,
    /// Types still made by their built-in factory, which reads no `options`.
    built_in: BTreeSet<String>,
}

/// The settings only the `file` type reads, in the order they are checked.
pub(crate) const FILE_ONLY: [&str; 6] = [
    "path",
    "rotation",
    "max_bytes",
    "retain",
    "create_dirs",
    "fsync_on_flush",
];

impl Default for SinkRegistry {
    fn default() -> Self {
        SinkRegistry::new()
    }
}

impl SinkRegistry {
    /// The built-in types: `stdout`, `stderr`, `file`, `null`.
    pub fn new() -> Self {
        let mut registry = SinkRegistry {
            factories: BTreeMap::new(),
            built_in: BTreeSet::new(),
        }
        .register("stdout", |_: &SinkSettings| {
            Ok(Box::new(StdoutSink::new()) as Box<dyn Sink>)
        })
        .register("stderr", |_: &SinkSettings| {
            Ok(Box::new(StderrSink::new()) as Box<dyn Sink>)
        })
        .register("null", |_: &SinkSettings| {
            Ok(Box::new(NullSink::new()) as Box<dyn Sink>)
        })
        .register("file", file_sink);
        registry.built_in = registry.factories.keys().cloned().collect();
        registry
    }

    /// Registers (or replaces) the sink type `name`.
    #[must_use]
    pub fn register(
        mut self,
        name: impl Into<String>,
        factory: impl Fn(&SinkSettings) -> Result<Box<dyn Sink>, ConfigError> + Send + Sync + 'static,
    ) -> Self {
        let name = name.into();
        self.built_in.remove(&name);
        self.factories.insert(name, Arc::new(factory));
        self
    }

    /// The registered type names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    pub(crate) fn check_type(&self, index: usize, kind: &str) -> Result<(), ConfigError> {
        if self.factories.contains_key(kind) {
            return Ok(());
        }
        let names: Vec<&str> = self.names().collect();
        Err(ConfigError::invalid(
            format!("sinks[{index}].type"),
            format!("{kind:?}"),
            format!(
                "expected one of {} (types registered in the SinkRegistry)",
                names.join(", ")
            ),
        ))
    }

    /// Whether `kind` is made by its built-in factory (not replaced by `register`).
    pub(crate) fn is_built_in(&self, kind: &str) -> bool {
        self.built_in.contains(kind)
    }

    pub(crate) fn build(
        &self,
        index: usize,
        settings: &SinkSettings,
    ) -> Result<Box<dyn Sink>, ConfigError> {
        self.check_type(index, &settings.kind)?;
        let Some(factory) = self.factories.get(&settings.kind) else {
            return Err(ConfigError::unknown(
                format!("sinks[{index}].type"),
                "not registered",
            ));
        };
        factory(settings).map_err(|e| of_sink(index, e))
    }

    /// Checks what the built-in `file` type would check before opening its
    /// file, so that `Config::validate` finds what `build` would.
    pub(crate) fn check_settings(
        &self,
        index: usize,
        settings: &SinkSettings,
    ) -> Result<(), ConfigError> {
        if settings.kind != "file" || !self.is_built_in("file") {
            return Ok(());
        }
        file_builder(settings)
            .and_then(|builder| builder.validate())
            .map_err(|e| of_sink(index, e))
    }
}

/// A factory's error, renamed to sink `index`'s setting (`file.path` →
/// `sinks[2].path`; `options.*` kept under the sink).
fn of_sink(index: usize, e: ConfigError) -> ConfigError {
    let field = e
        .setting()
        .split_once('.')
        .map_or(e.setting(), |(section, rest)| {
            if section == "options" {
                e.setting()
            } else {
                rest
            }
        });
    let setting = format!("sinks[{index}].{field}");
    e.for_setting(setting)
}

fn file_sink(settings: &SinkSettings) -> Result<Box<dyn Sink>, ConfigError> {
    Ok(Box::new(file_builder(settings)?.build()?))
}

/// The file sink `settings` describe, not opened yet.
fn file_builder(settings: &SinkSettings) -> Result<FileSinkBuilder, ConfigError> {
    if settings.path.is_empty() {
        return Err(ConfigError::invalid(
            "file.path",
            "\"\"",
            "a file sink needs a path",
        ));
    }
    let rotation = match settings.rotation.as_str() {
        "never" => Rotation::Never,
        "hourly" => Rotation::Hourly,
        "daily" => Rotation::Daily,
        other => {
            return Err(ConfigError::invalid(
                "file.rotation",
                format!("{other:?}"),
                "expected one of never, hourly, daily",
            ))
        }
    };
    let mut builder = FileSink::builder(&settings.path)
        .rotation(rotation)
        .retain(settings.retain)
        .create_dirs(settings.create_dirs)
        .fsync_on_flush(settings.fsync_on_flush);
    if settings.max_bytes > 0 {
        builder = builder.max_bytes(settings.max_bytes);
    }
    Ok(builder)
}

impl fmt::Debug for SinkRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkRegistry")
            .field("types", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn file_sink_settings_are_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let good = format!(
            "[[sinks]]\ntype = \"file\"\npath = {:?}\nrotation = \"daily\"\nmax_bytes = 1000",
            path.display().to_string()
        );
        let (pipeline, guard) = Config::from_toml_str(&good).unwrap().build().unwrap();
        pipeline.logger().info("to a file");
        assert_eq!(guard.shutdown(std::time::Duration::from_secs(5)).written, 1);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("to a file"));
        for (toml, setting) in [
            ("[[sinks]]\ntype = \"file\"", "sinks[0].path"),
            ("[[sinks]]\ntype = \"null\"\n[[sinks]]\ntype = \"file\"\npath = \"/x\"\nrotation = \"weekly\"", "sinks[1].rotation"),
            ("[[sinks]]\ntype = \"file\"\npath = \"/no/such/dir/app.log\"", "sinks[0].path"),
        ] {
            let err = Config::from_toml_str(toml).unwrap().build().unwrap_err();
            assert_eq!(err.setting(), setting, "{err}");
        }
    }
}
