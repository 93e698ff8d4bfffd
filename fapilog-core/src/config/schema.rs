//! The shape of a configuration, taken from the defaults: which keys exist,
//! their types, and where a file or variable strays from them.

use std::fmt::Write as _;

use toml::{Table, Value};

use crate::config::{Config, SinkSettings};
use crate::error::ConfigError;

/// The one table whose keys are free (a registered sink type's options).
const FREE_FORM: &str = "sinks[].options";

/// One setting, as listed in `docs/configuration.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setting {
    /// Dotted path (`queue.capacity`, `sinks[].path`).
    pub path: String,
    /// `integer`, `float`, `boolean`, `string`, `list of strings` or `table of strings`.
    pub kind: &'static str,
    /// The default, as TOML (`16384`, `"drop_oldest"`, `[]`).
    pub default: String,
    /// The environment variable (`FAPILOG_QUEUE__CAPACITY`, `FAPILOG_SINKS__<N>__PATH`).
    pub env: String,
}

impl Config {
    /// Every setting with its type, default and environment variable, in file order.
    ///
    /// ```
    /// use fapilog_core::config::Config;
    ///
    /// let capacity = Config::settings().into_iter().find(|s| s.path == "queue.capacity").unwrap();
    /// assert_eq!((capacity.kind, capacity.default.as_str()), ("integer", "16384"));
    /// assert_eq!(capacity.env, "FAPILOG_QUEUE__CAPACITY");
    /// ```
    pub fn settings() -> Vec<Setting> {
        let mut out = Vec::new();
        list(&schema(), "", "FAPILOG", &mut out);
        out
    }
}

fn list(table: &Table, path: &str, env: &str, out: &mut Vec<Setting>) {
    for (key, value) in table {
        let path = join(path, key);
        let env = format!("{env}__{}", key.to_ascii_uppercase());
        let env = env.replacen("FAPILOG__", "FAPILOG_", 1);
        match value {
            Value::Table(inner) if path != FREE_FORM => list(inner, &path, &env, out),
            Value::Array(items) if matches!(items.first(), Some(Value::Table(_))) => {
                if let Some(Value::Table(element)) = items.first() {
                    list(element, &format!("{path}[]"), &format!("{env}__<N>"), out);
                }
            }
            other => out.push(Setting {
                kind: kind_name(other),
                default: render(other),
                env: if path == FREE_FORM {
                    format!("{env}__<NAME>")
                } else {
                    env
                },
                path,
            }),
        }
    }
}

/// The defaults as a TOML table, with one default sink standing for every sink.
pub(crate) fn schema() -> Table {
    let mut table = to_table(&Config::default()).unwrap_or_default();
    if let Ok(sink) = to_table(&SinkSettings::default()) {
        table.insert("sinks".to_owned(), Value::Array(vec![Value::Table(sink)]));
    }
    table
}

pub(crate) fn to_table<T: serde::Serialize>(value: &T) -> Result<Table, ConfigError> {
    match Value::try_from(value) {
        Ok(Value::Table(table)) => Ok(table),
        Ok(_) => Err(ConfigError::syntax("config", "settings are not a table")),
        Err(e) => Err(ConfigError::syntax("config", e.to_string())),
    }
}

/// The settings of `section` that differ from their defaults, by key.
pub(crate) fn changed<T: serde::Serialize + Default>(section: &T) -> Table {
    let (Ok(given), Ok(default)) = (to_table(section), to_table(&T::default())) else {
        return Table::new();
    };
    given
        .into_iter()
        .filter(|(key, value)| default.get(key) != Some(value))
        .collect()
}

/// `a` + `b` as a dotted path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The path with array indexes generalized: `sinks[2].options` → `sinks[].options`.
pub(crate) fn general(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn is_free_form(path: &str) -> bool {
    general(path) == FREE_FORM
}

pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Array(_) => "list of strings",
        Value::Table(_) => "table of strings",
        Value::Datetime(_) => "datetime",
    }
}

/// A value as TOML text.
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => format!("{f:.1}"),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Table(t) => {
            let mut out = String::from("{");
            for (i, (k, v)) in t.iter().enumerate() {
                let sep = if i == 0 { " " } else { ", " };
                let _ = write!(out, "{sep}{k} = {}", render(v));
            }
            out.push_str(if t.is_empty() { "}" } else { " }" });
            out
        }
        Value::Datetime(d) => format!("{d:?}"),
    }
}

fn unknown(path: &str, schema: &Table) -> ConfigError {
    let known: Vec<&str> = schema.keys().map(String::as_str).collect();
    ConfigError::unknown(
        path.to_owned(),
        format!("expected one of {}", known.join(", ")),
    )
}

/// Checks `user` against the schema, coercing integers to floats where a
/// float is expected; unknown keys and wrong types are errors naming the path.
pub(crate) fn check(user: &mut Table) -> Result<(), ConfigError> {
    check_table(user, &schema(), "")
}

fn check_table(user: &mut Table, schema: &Table, path: &str) -> Result<(), ConfigError> {
    for (key, value) in user.iter_mut() {
        let here = join(path, key);
        let Some(expected) = schema.get(key) else {
            return Err(unknown(&here, schema));
        };
        check_value(value, expected, &here)?;
    }
    Ok(())
}

pub(crate) fn check_value(
    value: &mut Value,
    expected: &Value,
    path: &str,
) -> Result<(), ConfigError> {
    let wrong = |what: &str, value: &Value| {
        ConfigError::invalid(path.to_owned(), render(value), format!("expected {what}"))
    };
    match (expected, &mut *value) {
        (Value::Table(_), Value::Table(inner)) if is_free_form(path) => {
            for (key, v) in inner.iter() {
                if !matches!(v, Value::String(_)) {
                    return Err(ConfigError::invalid(
                        join(path, key),
                        render(v),
                        "expected a string",
                    ));
                }
            }
            Ok(())
        }
        (Value::Table(schema), Value::Table(inner)) => check_table(inner, schema, path),
        (Value::Table(_), other) => Err(wrong("a table", other)),
        (Value::Array(items), Value::Array(given)) => match items.first() {
            Some(Value::Table(element)) => {
                for (i, item) in given.iter_mut().enumerate() {
                    let here = format!("{path}[{i}]");
                    match item {
                        Value::Table(t) => check_table(t, element, &here)?,
                        other => {
                            return Err(ConfigError::invalid(
                                here,
                                render(other),
                                "expected a table",
                            ))
                        }
                    }
                }
                Ok(())
            }
            _ => {
                if given.iter().all(|v| matches!(v, Value::String(_))) {
                    Ok(())
                } else {
                    Err(wrong("a list of strings", value))
                }
            }
        },
        (Value::Array(_), other) => Err(wrong("a list of strings", other)),
        (Value::Integer(_), Value::Integer(i)) if *i < 0 => {
            Err(wrong("a non-negative integer", value))
        }
        (Value::Integer(_), Value::Integer(_)) => Ok(()),
        (Value::Integer(_), other) => Err(wrong("an integer", other)),
        (Value::Float(_), Value::Float(_)) => Ok(()),
        (Value::Float(_), Value::Integer(i)) => {
            *value = Value::Float(*i as f64);
            Ok(())
        }
        (Value::Float(_), other) => Err(wrong("a number", other)),
        (Value::Boolean(_), Value::Boolean(_)) => Ok(()),
        (Value::Boolean(_), other) => Err(wrong("true or false", other)),
        (Value::String(_), Value::String(_)) => Ok(()),
        (Value::String(_), other) => Err(wrong("a string", other)),
        (Value::Datetime(_), _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_listed_with_its_variable() {
        let settings = Config::settings();
        let find = |p: &str| settings.iter().find(|s| s.path == p).unwrap().clone();
        assert_eq!(find("level").env, "FAPILOG_LEVEL");
        assert_eq!(find("sampling.rate").default, "1.0");
        assert_eq!(find("sinks[].path").env, "FAPILOG_SINKS__<N>__PATH");
        assert_eq!(find("sinks[].type").default, "\"stdout\"");
        assert_eq!(
            find("sinks[].options").env,
            "FAPILOG_SINKS__<N>__OPTIONS__<NAME>"
        );
        assert_eq!(find("redaction.extra_fields").kind, "list of strings");
        assert_eq!(general("sinks[12].options.url"), "sinks[].options.url");
    }
}
