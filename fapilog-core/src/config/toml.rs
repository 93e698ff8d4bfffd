//! Loading a [`Config`] from TOML text or a file.

use std::path::Path;

use serde::Deserialize;

use crate::config::env::{process_vars, says_enabled};
use crate::config::{schema, Config};
use crate::error::ConfigError;

impl Config {
    /// Reads settings from TOML text; absent settings keep their defaults.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for text that is not TOML (kind `Syntax`, with the
    /// line), an unknown key (kind `UnknownSetting`, naming its dotted path and
    /// the keys allowed there), or a value of the wrong type (naming the
    /// setting, the value and the type expected). Values are checked further
    /// by [`validate`](Config::validate) and [`build`](Config::build).
    ///
    /// ```
    /// use fapilog_core::config::Config;
    /// use fapilog_core::ConfigErrorKind;
    ///
    /// let err = Config::from_toml_str("[sinks]\ntype = 1").unwrap_err();
    /// assert_eq!(err.setting(), "sinks");
    /// let err = Config::from_toml_str("[redaction]\nfield = []").unwrap_err();
    /// assert_eq!((err.kind(), err.setting()), (ConfigErrorKind::UnknownSetting, "redaction.field"));
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_with(text, &[])
    }

    /// [`from_toml_str`](Config::from_toml_str), where settings of a section
    /// that is off by default may come without `enabled` when `vars` say it.
    fn from_toml_with(text: &str, vars: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let place = e.span().map_or_else(
                || "config".to_owned(),
                |span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("config line {line}")
                },
            );
            ConfigError::syntax(place, e.message().to_owned())
        })?;
        schema::check(&mut table)?;
        for section in OFF_BY_DEFAULT
            .into_iter()
            .filter(|s| !says_enabled(vars, s))
        {
            if let Some(toml::Value::Table(given)) = table.get(section) {
                if !given.contains_key("enabled") {
                    if let Some((key, value)) = given.iter().next() {
                        return Err(left_off(section, key, &schema::render(value)));
                    }
                }
            }
        }
        from_table(table)
    }

    /// Reads settings from a TOML file.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the file when it cannot be read, and any error
    /// of [`from_toml_str`](Config::from_toml_str).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        Config::from_toml_str(&read_text(path.as_ref())?)
    }

    /// The defaults, then the file at `path` if given, then this process's
    /// `FAPILOG_*` variables. Settings of `[aggregation]` or `[throttling]`
    /// may come in the file without `enabled` when a
    /// `FAPILOG_<SECTION>__ENABLED` variable says it.
    ///
    /// # Errors
    ///
    /// Any error of [`from_file`](Config::from_file) and
    /// [`with_process_env`](Config::with_process_env).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with(path, process_vars()?)
    }

    /// [`load`](Config::load) with `vars` for the process's variables.
    fn load_with(path: Option<&Path>, vars: Vec<(String, String)>) -> Result<Config, ConfigError> {
        let config = match path {
            Some(path) => Config::from_toml_with(&read_text(path)?, &vars)?,
            None => Config::default(),
        };
        config.with_env(vars)
    }
}

fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::unusable("config file", format!("cannot read {}", path.display()), e)
    })
}

/// Sections that are off unless `enabled = true`: settings given for one
/// without saying `enabled` would stay unread.
pub(crate) const OFF_BY_DEFAULT: [&str; 2] = ["aggregation", "throttling"];

/// The error for `section.key` given while `section` was left off.
pub(crate) fn left_off(section: &str, key: &str, value: &str) -> ConfigError {
    ConfigError::invalid(
        format!("{section}.{key}"),
        value.to_owned(),
        format!(
            "{section} is off unless enabled = true: set {section}.enabled = true (or false, to keep it off)"
        ),
    )
}

/// Deserializes a table already checked against the schema.
pub(crate) fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
    Config::deserialize(toml::Value::Table(table))
        .map_err(|e| ConfigError::syntax("config", e.message().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_file_section_left_off_may_be_switched_by_a_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fapilog.toml");
        std::fs::write(&path, "[throttling]\nburst = 5\n").unwrap();

        let on = vars(&[("FAPILOG_THROTTLING__ENABLED", "true")]);
        let config = Config::load_with(Some(&path), on).unwrap();
        assert!(config.throttling.enabled);
        assert_eq!(config.throttling.burst, 5);

        let off = vars(&[("FAPILOG_THROTTLING__ENABLED", "false")]);
        assert!(
            !Config::load_with(Some(&path), off)
                .unwrap()
                .throttling
                .enabled
        );

        let other = vars(&[("FAPILOG_AGGREGATION__ENABLED", "true")]);
        let err = Config::load_with(Some(&path), other).unwrap_err();
        assert_eq!(err.setting(), "throttling.burst");
        assert_eq!(
            Config::from_file(&path).unwrap_err().setting(),
            "throttling.burst"
        );
    }
}
