//! Per-target levels: directives like `info,sqlx=warn,my_app::db=debug`.
//!
//! A directive without `=` sets the default level; `target=level` sets the
//! level for a target and everything below it (`my_app::db` covers
//! `my_app::db` and `my_app::db::pool`, not `my_app::dbx`). The longest
//! matching target wins. Levels are `trace`, `debug`, `info`, `warn`,
//! `error`, `fatal` and `off`, in any case.
//!
//! The pipeline's level gate stays one relaxed atomic load: it holds the most
//! verbose level of all directives, so an event below every directive is
//! refused there. Only when target directives exist does an event that passes
//! the gate look its target up. Directives can be replaced at run time with
//! [`Pipeline::set_directives`](crate::Pipeline::set_directives).
//!
//! # Example
//!
//! ```
//! use fapilog_core::{Level, LevelDirectives};
//!
//! let d: LevelDirectives = "info,sqlx=warn,my_app::db=debug".parse().unwrap();
//! assert!(!d.enabled(Level::Info, Some("sqlx::pool")));
//! assert!(d.enabled(Level::Debug, Some("my_app::db::pool")));
//! assert!(!d.enabled(Level::Debug, Some("my_app::web")));
//! assert!(d.enabled(Level::Info, None));
//! assert_eq!(d.to_string(), "info,my_app::db=debug,sqlx=warn");
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::level::{Level, LevelFilter};

/// The setting name used in errors about directives.
const SETTING: &str = "level";
/// What [`is_target`] accepts, for error messages.
pub(crate) const TARGET_RULE: &str =
    "a target is a module path: letters, digits, `_`, `-`, `.` and `::`";

/// A default level plus per-target levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelDirectives {
    default: LevelFilter,
    /// Sorted longest target first, then by name, so the first match is the most specific.
    targets: Vec<(String, LevelFilter)>,
}

impl Default for LevelDirectives {
    /// INFO for everything, no target directives.
    fn default() -> Self {
        LevelDirectives::new(Level::Info)
    }
}

impl From<LevelFilter> for LevelDirectives {
    fn from(filter: LevelFilter) -> Self {
        LevelDirectives::new(filter)
    }
}

impl From<Level> for LevelDirectives {
    fn from(level: Level) -> Self {
        LevelDirectives::new(level)
    }
}

impl LevelDirectives {
    /// `default` for every target, no target directives.
    pub fn new(default: impl Into<LevelFilter>) -> Self {
        LevelDirectives {
            default: default.into(),
            targets: Vec::new(),
        }
    }

    /// Parses `info,sqlx=warn,my_app::db=debug`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `level`, the bad directive and what is allowed.
    ///
    /// ```
    /// use fapilog_core::LevelDirectives;
    ///
    /// let err = LevelDirectives::parse("info,sqlx=loud").unwrap_err();
    /// assert_eq!(err.setting(), "level");
    /// assert!(err.to_string().contains("sqlx=loud"));
    /// ```
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let mut directives = LevelDirectives::new(Level::Info);
        let mut default_seen = false;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let invalid = |reason: &str| {
                ConfigError::invalid(SETTING, format!("{part:?}"), reason.to_owned())
            };
            match part.split_once('=') {
                None => {
                    if default_seen {
                        return Err(invalid("only one directive may omit the target"));
                    }
                    default_seen = true;
                    directives.default = part.parse().map_err(|_| {
                        invalid("expected a level: trace, debug, info, warn, error, fatal or off")
                    })?;
                }
                Some((target, level)) => {
                    let target = target.trim();
                    if !is_target(target) {
                        return Err(invalid(TARGET_RULE));
                    }
                    let level: LevelFilter = level.trim().parse().map_err(|_| {
                        invalid("expected target=level with level one of trace, debug, info, warn, error, fatal or off")
                    })?;
                    directives.set_target(target.to_owned(), level);
                }
            }
        }
        Ok(directives)
    }

    /// This set with `target` (and everything below it) at `level`, replacing
    /// an earlier directive for the same target.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `level` when `target` is not a module path
    /// (letters, digits, `_`, `-`, `.`, segments joined by `::`): it would
    /// match no event's target.
    ///
    /// ```
    /// use fapilog_core::{Level, LevelDirectives, LevelFilter};
    ///
    /// let directives = LevelDirectives::new(Level::Info).with_target("sqlx", Level::Warn)?;
    /// assert!(directives.has_targets());
    /// assert!(LevelDirectives::new(Level::Info).with_target("my app", Level::Debug).is_err());
    /// assert!(LevelDirectives::new(Level::Info).with_target("a::", LevelFilter::OFF).is_err());
    /// # Ok::<(), fapilog_core::ConfigError>(())
    /// ```
    pub fn with_target(
        mut self,
        target: impl Into<String>,
        level: impl Into<LevelFilter>,
    ) -> Result<Self, ConfigError> {
        let target = target.into();
        if !is_target(&target) {
            return Err(ConfigError::invalid(
                SETTING,
                format!("{target:?}"),
                TARGET_RULE,
            ));
        }
        self.set_target(target, level.into());
        Ok(self)
    }

    /// Sets `target`'s level; `target` is a module path already.
    fn set_target(&mut self, target: String, level: LevelFilter) {
        match self.targets.iter_mut().find(|(t, _)| *t == target) {
            Some(existing) => existing.1 = level,
            None => self.targets.push((target, level)),
        }
        self.targets
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    }

    /// This set with `default` for targets no directive names.
    #[must_use]
    pub fn with_default(mut self, default: impl Into<LevelFilter>) -> Self {
        self.default = default.into();
        self
    }

    /// The level for targets no directive names.
    pub fn default_level(&self) -> LevelFilter {
        self.default
    }

    /// Whether any target directive exists.
    pub fn has_targets(&self) -> bool {
        !self.targets.is_empty()
    }

    /// The filter that applies to `target` (the default for `None`).
    pub fn filter_for(&self, target: Option<&str>) -> LevelFilter {
        let Some(target) = target else {
            return self.default;
        };
        self.targets
            .iter()
            .find(|(prefix, _)| covers(prefix, target))
            .map_or(self.default, |(_, level)| *level)
    }

    /// Whether an event at `level` from `target` passes.
    pub fn enabled(&self, level: Level, target: Option<&str>) -> bool {
        self.filter_for(target).allows(level)
    }

    /// The most verbose level any directive allows: what the pipeline's gate lets through.
    pub fn most_verbose(&self) -> LevelFilter {
        self.targets
            .iter()
            .map(|(_, l)| *l)
            .fold(
                self.default,
                |a, b| if b.allows_more_than(a) { b } else { a },
            )
    }
}

/// `prefix` covers `target` when they are equal or `target` continues with `::`.
pub(crate) fn covers(prefix: &str, target: &str) -> bool {
    target
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Whether `s` is a module path: non-empty segments of letters, digits, `_`,
/// `-` and `.`, joined by `::`.
pub(crate) fn is_target(s: &str) -> bool {
    s.split("::").all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    })
}

impl FromStr for LevelDirectives {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LevelDirectives::parse(s)
    }
}

impl fmt::Display for LevelDirectives {
    /// The directives in the syntax [`parse`](Self::parse) reads, targets sorted by name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.default)?;
        let mut targets: Vec<_> = self.targets.iter().collect();
        targets.sort_by(|a, b| a.0.cmp(&b.0));
        for (target, level) in targets {
            write!(f, ",{target}={level}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_set_in_code_is_checked_as_a_parsed_one_is() {
        for bad in ["", "my app", "a::", "::a", "a=b", "sqlx,x"] {
            let err = LevelDirectives::new(Level::Info)
                .with_target(bad, Level::Debug)
                .unwrap_err();
            assert_eq!(err.setting(), "level", "{bad:?}");
            assert!(
                LevelDirectives::parse(&format!("{bad}=debug")).is_err(),
                "{bad:?}"
            );
        }
        let d = LevelDirectives::new(Level::Info)
            .with_target("my_app::db", Level::Debug)
            .and_then(|d| d.with_target("my_app::db", Level::Error))
            .unwrap();
        assert_eq!(d, LevelDirectives::parse("info,my_app::db=error").unwrap());
    }

    #[test]
    fn longest_target_wins_at_module_boundaries() {
        let d = LevelDirectives::parse("warn, a=info, a::b=trace, a::b::c=off").unwrap();
        assert_eq!(d.filter_for(Some("a")), Level::Info.into());
        assert_eq!(d.filter_for(Some("a::x")), Level::Info.into());
        assert_eq!(d.filter_for(Some("a::b::d")), LevelFilter::TRACE);
        assert_eq!(d.filter_for(Some("a::b::c::e")), LevelFilter::OFF);
        assert_eq!(d.filter_for(Some("ab")), Level::Warn.into());
        assert_eq!(d.filter_for(None), Level::Warn.into());
        assert_eq!(d.most_verbose(), LevelFilter::TRACE);
    }

    #[test]
    fn default_only_and_empty_specs() {
        assert_eq!(
            LevelDirectives::parse("").unwrap(),
            LevelDirectives::default()
        );
        let d = LevelDirectives::parse("DEBUG").unwrap();
        assert!(!d.has_targets());
        assert_eq!(d.most_verbose(), Level::Debug.into());
        let off = LevelDirectives::parse("off,sqlx=error").unwrap();
        assert_eq!(off.most_verbose(), Level::Error.into());
    }

    #[test]
    fn bad_directives_name_the_setting_and_the_part() {
        for bad in ["loud", "info,debug", "a b=info", "=info", "x=", "x=verbose"] {
            let err = LevelDirectives::parse(bad).unwrap_err();
            assert_eq!(err.setting(), "level", "{bad}");
        }
        let err = LevelDirectives::parse("info,sqlx=loud").unwrap_err();
        assert!(err.to_string().contains("\"sqlx=loud\""), "{err}");
    }

    #[test]
    fn a_target_is_module_path_segments_joined_by_double_colons() {
        // Each of these names a target no module path can have, so the
        // directive would never match anything.
        for bad in [
            "my_app:db=debug",
            "sqlx::=debug",
            "::sqlx=debug",
            "::=debug",
            "a:::b=debug",
            "a::::b=debug",
            ":=debug",
        ] {
            let err = LevelDirectives::parse(bad).unwrap_err();
            assert_eq!(err.setting(), "level", "{bad}");
        }
        for good in ["a::b=debug", "my-app.db=debug", "a::b::c_1=debug"] {
            LevelDirectives::parse(good).unwrap();
        }
    }

    #[test]
    fn display_round_trips() {
        let d = LevelDirectives::parse("info,b=warn,a::x=debug,b=error").unwrap();
        assert_eq!(d.to_string(), "info,a::x=debug,b=error");
        assert_eq!(d.to_string().parse::<LevelDirectives>().unwrap(), d);
    }
}
