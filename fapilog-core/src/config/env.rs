//! Overriding a [`Config`] with `FAPILOG_<SECTION>__<FIELD>` variables.

use toml::{Table, Value};

use crate::config::schema::{self, check_value, join};
use crate::config::toml::{from_table, left_off, OFF_BY_DEFAULT};
use crate::config::Config;
use crate::error::ConfigError;

/// The prefix every variable fapilog reads starts with.
const PREFIX: &str = "FAPILOG_";

impl Config {
    /// These settings overridden by `FAPILOG_*` variables from `vars`; other
    /// variables are ignored. `FAPILOG_LEVEL` sets `level`,
    /// `FAPILOG_QUEUE__CAPACITY` sets `queue.capacity`, a list is
    /// comma-separated (`FAPILOG_AGGREGATION__TARGETS=sqlx::pool,hyper`) or,
    /// when an item holds a comma, a TOML array of strings
    /// (`FAPILOG_REDACTION__PATTERNS=['\d{20,40}']`), and
    /// `FAPILOG_SINKS__<N>__<FIELD>` sets a field of sink `N` (the sink after
    /// the last is added with the defaults). Variables are applied in name
    /// order, sink numbers in numeric order.
    ///
    /// Taking the variables as an iterator keeps tests free of the process
    /// environment; [`with_process_env`](Config::with_process_env) reads the real one.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming an unknown `FAPILOG_*` variable (kind
    /// `UnknownSetting`), or the setting, the value and the type expected.
    ///
    /// ```
    /// use fapilog_core::config::Config;
    ///
    /// let config = Config::default()
    ///     .with_env([("FAPILOG_LEVEL", "debug"), ("FAPILOG_SINKS__0__TYPE", "stderr"), ("PATH", "/bin")])
    ///     .unwrap();
    /// assert_eq!((config.level.as_str(), config.sinks[0].kind.as_str()), ("debug", "stderr"));
    ///
    /// let err = Config::default().with_env([("FAPILOG_QUEUE__CAPACITY", "lots")]).unwrap_err();
    /// assert_eq!(err.setting(), "queue.capacity");
    /// assert!(err.to_string().contains("FAPILOG_QUEUE__CAPACITY"));
    /// ```
    pub fn with_env<I, K, V>(self, vars: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut ours: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| k.as_ref().starts_with(PREFIX))
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        if ours.is_empty() {
            return Ok(self);
        }
        // Name order, but a sink's number in numeric order (`__10__` after `__9__`).
        ours.sort_by_cached_key(|(var, _)| {
            var.split("__")
                .map(|segment| match segment.parse::<u64>() {
                    Ok(n) => format!("{n:020}"),
                    Err(_) => segment.to_owned(),
                })
                .collect::<Vec<_>>()
        });
        let mut table = schema::to_table(&self)?;
        let schema = schema::schema();
        for (var, raw) in &ours {
            let segments: Vec<String> = var[PREFIX.len()..]
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect();
            set(&mut table, &schema, &segments, "", raw, var)?;
        }
        schema::check(&mut table)?;
        check_left_off(&ours, &table)?;
        from_table(table)
    }

    /// These settings overridden by this process's `FAPILOG_*` variables.
    ///
    /// # Errors
    ///
    /// As [`with_env`](Config::with_env); a `FAPILOG_*` variable that is not
    /// UTF-8 is an error too.
    pub fn with_process_env(self) -> Result<Config, ConfigError> {
        self.with_env(process_vars()?)
    }
}

/// This process's `FAPILOG_*` variables.
pub(crate) fn process_vars() -> Result<Vec<(String, String)>, ConfigError> {
    let mut vars = Vec::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str().filter(|k| k.starts_with(PREFIX)) else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|v| ConfigError::invalid(key.to_owned(), format!("{v:?}"), "must be UTF-8"))?;
        vars.push((key.to_owned(), value));
    }
    Ok(vars)
}

/// Whether `vars` set `section`'s `enabled` (`FAPILOG_<SECTION>__ENABLED`).
pub(crate) fn says_enabled(vars: &[(String, String)], section: &str) -> bool {
    let var = format!("{PREFIX}{}__ENABLED", section.to_ascii_uppercase());
    vars.iter().any(|(name, _)| *name == var)
}

/// A section that is off by default, given settings by variables that do not
/// say `ENABLED`, and still off once they are applied: an error naming the
/// first. (A file that turned it on is adjusted, not overridden.)
fn check_left_off(vars: &[(String, String)], merged: &Table) -> Result<(), ConfigError> {
    for section in OFF_BY_DEFAULT {
        let prefix = format!("{PREFIX}{}__", section.to_ascii_uppercase());
        let first_given = vars
            .iter()
            .find_map(|(var, raw)| Some((var.strip_prefix(&prefix)?, raw)));
        let enabled = merged
            .get(section)
            .and_then(|t| t.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if enabled || says_enabled(vars, section) {
            continue;
        }
        if let Some((key, raw)) = first_given {
            return Err(left_off(
                section,
                &key.to_ascii_lowercase(),
                &format!("{raw:?}"),
            ));
        }
    }
    Ok(())
}

fn unknown(var: &str, schema: &Table) -> ConfigError {
    let known: Vec<String> = schema.keys().map(|k| k.to_ascii_uppercase()).collect();
    ConfigError::unknown(
        var.to_owned(),
        format!(
            "no such setting; expected one of {} at this level",
            known.join(", ")
        ),
    )
}

fn set(
    table: &mut Table,
    schema: &Table,
    segments: &[String],
    path: &str,
    raw: &str,
    var: &str,
) -> Result<(), ConfigError> {
    let Some((key, rest)) = segments.split_first() else {
        return Err(unknown(var, schema));
    };
    let here = join(path, key);
    let Some(expected) = schema.get(key) else {
        return Err(unknown(var, schema));
    };
    match (expected, rest) {
        (Value::Table(_), [name]) if schema::is_free_form(&here) => {
            let entry = table
                .entry(key.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(options) = entry {
                options.insert(name.clone(), Value::String(raw.to_owned()));
            }
            Ok(())
        }
        (Value::Table(inner_schema), [_, ..]) if !schema::is_free_form(&here) => {
            let entry = table
                .entry(key.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            match entry {
                Value::Table(inner) => set(inner, inner_schema, rest, &here, raw, var),
                _ => Err(unknown(var, schema)),
            }
        }
        (Value::Array(items), [index, tail @ ..]) if !tail.is_empty() => {
            let Some(Value::Table(element)) = items.first() else {
                return Err(unknown(var, schema));
            };
            let entry = table
                .entry(key.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = entry else {
                return Err(unknown(var, schema));
            };
            let index: usize = index.parse().map_err(|_| {
                ConfigError::unknown(
                    var.to_owned(),
                    format!(
                        "expected {}__<N>__<FIELD> with N a number",
                        key.to_ascii_uppercase()
                    ),
                )
            })?;
            if index > list.len() {
                return Err(ConfigError::invalid(
                    var.to_owned(),
                    index,
                    format!(
                        "{key} are numbered from 0 without gaps; the next is {}",
                        list.len()
                    ),
                ));
            }
            if index == list.len() {
                list.push(Value::Table(element.clone()));
            }
            match &mut list[index] {
                Value::Table(item) => {
                    set(item, element, tail, &format!("{here}[{index}]"), raw, var)
                }
                _ => Err(unknown(var, schema)),
            }
        }
        (scalar, []) if !matches!(scalar, Value::Table(_)) => {
            let mut value = parse_as(scalar, raw).ok_or_else(|| {
                ConfigError::invalid(
                    here.clone(),
                    format!("{raw:?}"),
                    format!("expected {} (from {var})", expected_text(scalar)),
                )
            })?;
            check_value(&mut value, scalar, &here)
                .map_err(|e| e.for_setting(here.clone()))
                .map_err(|e| {
                    ConfigError::invalid(
                        here.clone(),
                        format!("{raw:?}"),
                        format!("{} (from {var})", e.reason()),
                    )
                })?;
            table.insert(key.clone(), value);
            Ok(())
        }
        _ => Err(unknown(var, schema)),
    }
}

fn expected_text(expected: &Value) -> &'static str {
    match expected {
        Value::Integer(_) => "a non-negative integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Array(_) => "a comma-separated list, or a TOML array of strings in [ ]",
        _ => "a string",
    }
}

/// `raw` as a value of the same type as `expected`.
fn parse_as(expected: &Value, raw: &str) -> Option<Value> {
    let raw_trimmed = raw.trim();
    Some(match expected {
        Value::Integer(_) => Value::Integer(
            raw_trimmed
                .parse::<u64>()
                .ok()
                .and_then(|v| i64::try_from(v).ok())?,
        ),
        Value::Float(_) => Value::Float(raw_trimmed.parse().ok().filter(|f: &f64| f.is_finite())?),
        Value::Boolean(_) => Value::Boolean(match raw_trimmed.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return None,
        }),
        Value::Array(_) => Value::Array(list_items(raw_trimmed)?),
        _ => Value::String(raw.to_owned()),
    })
}

/// A list's items: a TOML array of strings when the value is in brackets, so
/// an item may hold a comma (`['\d{13,19}', 'x,y']`); else comma-separated.
fn list_items(raw: &str) -> Option<Vec<Value>> {
    if !(raw.starts_with('[') && raw.ends_with(']')) {
        return Some(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        );
    }
    let mut document: Table = format!("list = {raw}").parse().ok()?;
    match document.remove("list")? {
        Value::Array(items) if items.iter().all(Value::is_str) => Some(items),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigErrorKind;

    #[test]
    fn overrides_every_kind_of_setting() {
        let config = Config::default()
            .with_env([
                ("FAPILOG_LEVEL", "warn,sqlx=error"),
                ("FAPILOG_QUEUE__CAPACITY", "4096"),
                ("FAPILOG_QUEUE__OVERFLOW", "block"),
                ("FAPILOG_SAMPLING__RATE", "0.1"),
                ("FAPILOG_SAMPLING__NEVER_PATHS", "/health, /ready"),
                ("FAPILOG_REDACTION__ENABLED", "false"),
                ("FAPILOG_THROTTLING__ENABLED", "true"),
                ("FAPILOG_THROTTLING__REFILL_PER_S", "5"),
                ("FAPILOG_SINKS__0__TYPE", "file"),
                ("FAPILOG_SINKS__0__PATH", "/tmp/x.log"),
                ("FAPILOG_SINKS__1__TYPE", "kafka"),
                ("FAPILOG_SINKS__1__OPTIONS__BROKERS", "k1:9092"),
                ("HOME", "/root"),
            ])
            .unwrap();
        assert_eq!(config.level, "warn,sqlx=error");
        assert_eq!(config.queue.capacity, 4096);
        assert_eq!(config.queue.overflow, "block");
        assert_eq!(config.sampling.rate, 0.1);
        assert_eq!(config.sampling.never_paths, ["/health", "/ready"]);
        assert!(!config.redaction.enabled);
        assert!(config.throttling.enabled);
        assert_eq!(config.throttling.refill_per_s, 5.0);
        assert_eq!(config.sinks.len(), 2);
        assert_eq!(
            (config.sinks[0].kind.as_str(), config.sinks[0].path.as_str()),
            ("file", "/tmp/x.log")
        );
        assert_eq!(config.sinks[1].options["brokers"], "k1:9092");
        assert_eq!(
            config.sinks[1].format, "json",
            "a new sink starts from the defaults"
        );
    }

    #[test]
    fn a_list_in_brackets_is_a_toml_array_so_items_may_hold_commas() {
        let config = Config::default()
            .with_env([
                ("FAPILOG_REDACTION__PATTERNS", r#" ['\d{20,40}', "a,b"] "#),
                ("FAPILOG_SAMPLING__NEVER_PATHS", "[0-9]{3},/health"),
            ])
            .unwrap();
        assert_eq!(config.redaction.patterns, [r"\d{20,40}", "a,b"]);
        assert_eq!(config.sampling.never_paths, ["[0-9]{3}", "/health"]);
        for bad in ["[a-z]", "[1, 2]", "['x'] ]"] {
            let err = Config::default()
                .with_env([("FAPILOG_REDACTION__PATTERNS", bad)])
                .unwrap_err();
            assert_eq!(err.setting(), "redaction.patterns");
            assert!(err.to_string().contains("TOML array"), "{err}");
        }
    }

    #[test]
    fn env_wins_over_the_file() {
        let config = Config::from_toml_str("[queue]\ncapacity = 10\nbatch_size = 5")
            .unwrap()
            .with_env([("FAPILOG_QUEUE__CAPACITY", "20")])
            .unwrap();
        assert_eq!((config.queue.capacity, config.queue.batch_size), (20, 5));
    }

    #[test]
    fn bad_variables_are_errors() {
        let err = Config::default()
            .with_env([("FAPILOG_QUEUE__CAPACTY", "1")])
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.setting()),
            (ConfigErrorKind::UnknownSetting, "FAPILOG_QUEUE__CAPACTY")
        );
        assert!(err.to_string().contains("CAPACITY"), "{err}");
        let err = Config::default()
            .with_env([("FAPILOG_VERBOSE", "1")])
            .unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::UnknownSetting);
        let err = Config::default()
            .with_env([("FAPILOG_QUEUE", "1")])
            .unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::UnknownSetting);
        for (var, value, setting, expected) in [
            (
                "FAPILOG_QUEUE__CAPACITY",
                "-5",
                "queue.capacity",
                "non-negative integer",
            ),
            (
                "FAPILOG_SAMPLING__RATE",
                "half",
                "sampling.rate",
                "a number",
            ),
            (
                "FAPILOG_REDACTION__ENABLED",
                "maybe",
                "redaction.enabled",
                "true or false",
            ),
        ] {
            let err = Config::default().with_env([(var, value)]).unwrap_err();
            assert_eq!(err.setting(), setting);
            assert_eq!(err.kind(), ConfigErrorKind::InvalidValue);
            let text = err.to_string();
            assert!(
                text.contains(expected) && text.contains(var) && text.contains(value),
                "{text}"
            );
        }
        let err = Config::default()
            .with_env([("FAPILOG_SINKS__1__TYPE", "null")])
            .unwrap_err();
        assert_eq!(err.setting(), "FAPILOG_SINKS__1__TYPE");
        // A bad value that parses is caught when the config is checked.
        let config = Config::default()
            .with_env([("FAPILOG_SAMPLING__RATE", "2")])
            .unwrap();
        assert_eq!(config.validate().unwrap_err().setting(), "sampling.rate");
    }

    #[test]
    fn sinks_are_numbered_in_numeric_order() {
        // By name, FAPILOG_SINKS__10__* sorts before FAPILOG_SINKS__1__*.
        let vars: Vec<(String, &str)> = (0..12)
            .map(|n| (format!("FAPILOG_SINKS__{n}__TYPE"), "null"))
            .chain([("FAPILOG_SINKS__11__FORMAT".to_owned(), "logfmt")])
            .collect();
        let config = Config::default().with_env(vars).unwrap();
        assert_eq!(config.sinks.len(), 12);
        assert!(config.sinks.iter().all(|s| s.kind == "null"));
        assert_eq!(config.sinks[11].format, "logfmt");
    }
}
