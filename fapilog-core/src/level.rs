//! Severity levels and the run-time level gate.
//!
//! # Example
//!
//! ```
//! use fapilog_core::Level;
//!
//! assert!(Level::Error > Level::Info);
//! assert_eq!("warn".parse::<Level>().unwrap(), Level::Warn);
//! assert_eq!(Level::Info.as_str(), "INFO");
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// The severity of an event, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Very detailed diagnostics.
    Trace = 0,
    /// Diagnostics useful while developing.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the program handled.
    Warn = 3,
    /// A failure: always written, even in unsampled requests, and protected in a full queue.
    Error = 4,
    /// A failure after which the process cannot continue.
    Fatal = 5,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The upper-case name written in logs (`"INFO"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// Whether events at this level are protected from sampling and overflow (ERROR and above).
    pub const fn is_protected(self) -> bool {
        self as u8 >= Level::Error as u8
    }

    /// How a full queue ranks this level: 0 for INFO and below, 1 for WARN,
    /// 2 for ERROR and above. An incoming event evicts a queued event of a
    /// lower rank rather than being lost, so a flood of INFO cannot push out
    /// WARN or ERROR events.
    pub(crate) const fn overflow_rank(self) -> u8 {
        match self {
            Level::Trace | Level::Debug | Level::Info => 0,
            Level::Warn => 1,
            Level::Error | Level::Fatal => 2,
        }
    }

    const fn from_u8(v: u8) -> Option<Level> {
        match v {
            0 => Some(Level::Trace),
            1 => Some(Level::Debug),
            2 => Some(Level::Info),
            3 => Some(Level::Warn),
            4 => Some(Level::Error),
            5 => Some(Level::Fatal),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error returned when a string names no level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLevelError {
    input: String,
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level {:?}: expected one of trace, debug, info, warn, error, fatal, off",
            self.input
        )
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .or_else(|| {
                s.trim()
                    .eq_ignore_ascii_case("warning")
                    .then_some(Level::Warn)
            })
            .ok_or_else(|| ParseLevelError {
                input: s.to_owned(),
            })
    }
}

/// The minimum level a pipeline accepts, or [`LevelFilter::OFF`].
///
/// ```
/// use fapilog_core::{Level, LevelFilter};
///
/// let f: LevelFilter = "off".parse().unwrap();
/// assert!(!f.allows(Level::Fatal));
/// assert!(LevelFilter::from(Level::Warn).allows(Level::Error));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelFilter(u8);

impl LevelFilter {
    /// Nothing passes.
    pub const OFF: LevelFilter = LevelFilter(u8::MAX);
    /// Everything passes.
    pub const TRACE: LevelFilter = LevelFilter(Level::Trace as u8);

    /// Whether an event at `level` passes this filter.
    pub const fn allows(self, level: Level) -> bool {
        level as u8 >= self.0
    }

    /// Whether this filter lets through a level that `other` refuses.
    pub(crate) const fn allows_more_than(self, other: LevelFilter) -> bool {
        self.0 < other.0
    }

    /// The least severe level that passes, `None` for [`LevelFilter::OFF`].
    pub const fn min_level(self) -> Option<Level> {
        Level::from_u8(self.0)
    }
}

impl From<Level> for LevelFilter {
    fn from(level: Level) -> Self {
        LevelFilter(level as u8)
    }
}

impl FromStr for LevelFilter {
    type Err = ParseLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(LevelFilter::OFF);
        }
        s.parse::<Level>().map(LevelFilter::from)
    }
}

impl fmt::Display for LevelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.min_level() {
            Some(level) => f.pad(&level.as_str().to_ascii_lowercase()),
            None => f.pad("off"),
        }
    }
}

/// A level filter that can be changed at run time; reading it is one relaxed atomic load.
#[derive(Debug)]
pub(crate) struct AtomicLevelFilter(AtomicU8);

impl AtomicLevelFilter {
    pub(crate) fn new(filter: LevelFilter) -> Self {
        AtomicLevelFilter(AtomicU8::new(filter.0))
    }

    #[inline(always)]
    pub(crate) fn allows(&self, level: Level) -> bool {
        level as u8 >= self.0.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn get(&self) -> LevelFilter {
        LevelFilter(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, filter: LevelFilter) {
        self.0.store(filter.0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!("TRACE".parse::<Level>().unwrap(), Level::Trace);
        assert_eq!(" Error ".parse::<Level>().unwrap(), Level::Error);
        assert_eq!("warning".parse::<Level>().unwrap(), Level::Warn);
        let err = "loud".parse::<Level>().unwrap_err();
        assert!(err.to_string().contains("\"loud\""));
    }

    #[test]
    fn filter_orders_levels() {
        let f = LevelFilter::from(Level::Info);
        assert!(!f.allows(Level::Debug));
        assert!(f.allows(Level::Info));
        assert!(f.allows(Level::Fatal));
        assert_eq!(f.to_string(), "info");
        assert_eq!(LevelFilter::OFF.to_string(), "off");
        assert!(LevelFilter::TRACE.allows(Level::Trace));
    }

    #[test]
    fn atomic_filter_changes_at_run_time() {
        let f = AtomicLevelFilter::new(Level::Info.into());
        assert!(!f.allows(Level::Debug));
        f.set(Level::Trace.into());
        assert!(f.allows(Level::Debug));
        assert_eq!(f.get(), LevelFilter::TRACE);
    }
}
