//! Configuration errors: returned at build time, naming the setting and the reason.
//!
//! # Example
//!
//! ```
//! use fapilog_core::{ConfigError, ConfigErrorKind};
//!
//! let err = ConfigError::invalid("queue.capacity", "0", "must be at least 1");
//! assert_eq!(err.setting(), "queue.capacity");
//! assert_eq!(err.kind(), ConfigErrorKind::InvalidValue);
//! assert_eq!(err.to_string(), "invalid value 0 for `queue.capacity`: must be at least 1");
//! ```

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

/// What kind of configuration mistake a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A value outside what the setting allows.
    InvalidValue,
    /// A resource named by the setting (a file, a directory) cannot be used.
    Unusable,
    /// A setting that does not exist.
    UnknownSetting,
    /// A configuration file that is not valid TOML.
    Syntax,
}

/// A configuration mistake, found before anything starts.
#[derive(Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    setting: Cow<'static, str>,
    value: Option<String>,
    reason: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl ConfigError {
    /// `value` is not allowed for `setting`; `reason` says what is.
    pub fn invalid(
        setting: impl Into<Cow<'static, str>>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            setting: setting.into(),
            value: Some(value.to_string()),
            reason: reason.into(),
            source: None,
        }
    }

    /// The resource named by `setting` cannot be used, because of `source`.
    pub fn unusable(
        setting: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        ConfigError {
            kind: ConfigErrorKind::Unusable,
            setting: setting.into(),
            value: None,
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// `setting` does not exist.
    pub fn unknown(setting: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        ConfigError {
            kind: ConfigErrorKind::UnknownSetting,
            setting: setting.into(),
            value: None,
            reason: reason.into(),
            source: None,
        }
    }

    /// The configuration text is not valid TOML; `setting` says where (`"config line 3"`).
    pub fn syntax(setting: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        ConfigError {
            kind: ConfigErrorKind::Syntax,
            setting: setting.into(),
            value: None,
            reason: reason.into(),
            source: None,
        }
    }

    /// The same error about `setting` instead (used where a component's
    /// setting sits inside a larger configuration, e.g. `file.path` → `sinks[0].path`).
    #[must_use]
    pub fn for_setting(mut self, setting: impl Into<Cow<'static, str>>) -> Self {
        self.setting = setting.into();
        self
    }

    /// The kind of mistake.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The value at fault, as written in the message (strings quoted), when there is one.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What is wrong, or what is allowed.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The setting at fault, as a dotted path (`"queue.capacity"`).
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.value) {
            (ConfigErrorKind::UnknownSetting, _) => {
                write!(f, "unknown setting `{}`: {}", self.setting, self.reason)
            }
            (ConfigErrorKind::Syntax, _) => {
                write!(f, "invalid TOML at {}: {}", self.setting, self.reason)
            }
            (_, Some(value)) => write!(
                f,
                "invalid value {} for `{}`: {}",
                value, self.setting, self.reason
            ),
            (_, None) => write!(f, "`{}`: {}", self.setting, self.reason),
        }?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}
