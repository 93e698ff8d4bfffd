//! [`Rotation`]: when a [`FileSink`](super::FileSink) starts a new file by time.
//!
//! Periods are UTC and aligned to the Unix epoch: an hourly period starts at
//! `hh:00:00Z`, a daily one at `00:00:00Z`. The file sink rotates before the
//! first write that falls in a new period.
//!
//! # Example
//!
//! ```
//! use fapilog_core::sink::{FileSink, Rotation};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("app.log");
//!
//! let sink = FileSink::builder(&path).rotation(Rotation::Daily).build()?;
//! # let _ = sink;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

const SECS_PER_HOUR: u64 = 60 * 60;
const SECS_PER_DAY: u64 = 24 * SECS_PER_HOUR;

/// When a file sink starts a new file because time has passed.
///
/// Size-based rotation is set separately with
/// [`FileSinkBuilder::max_bytes`](super::FileSinkBuilder::max_bytes); both can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Rotation {
    /// Never rotate by time (the default).
    #[default]
    Never,
    /// Rotate at the start of every UTC hour.
    Hourly,
    /// Rotate at the start of every UTC day.
    Daily,
}

impl Rotation {
    /// The length of one period in seconds; `None` for [`Rotation::Never`].
    pub(crate) fn period_secs(self) -> Option<u64> {
        match self {
            Rotation::Never => None,
            Rotation::Hourly => Some(SECS_PER_HOUR),
            Rotation::Daily => Some(SECS_PER_DAY),
        }
    }

    /// The index of the period holding `time` (periods counted from the Unix
    /// epoch); `None` for [`Rotation::Never`]. Times before the epoch are period 0.
    pub(crate) fn period_index(self, time: SystemTime) -> Option<u64> {
        self.period_secs().map(|len| unix_secs(time) / len)
    }
}

/// Whole seconds since the Unix epoch; 0 for earlier times.
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    // 2024-03-10T00:00:00Z
    const DAY_START: u64 = 1_710_028_800;

    #[test]
    fn never_has_no_period() {
        assert_eq!(Rotation::Never.period_index(at(DAY_START)), None);
        assert_eq!(Rotation::default(), Rotation::Never);
    }

    #[test]
    fn hourly_changes_on_the_hour() {
        let r = Rotation::Hourly;
        let first = r.period_index(at(DAY_START)).unwrap();
        assert_eq!(first, DAY_START / 3600);
        assert_eq!(r.period_index(at(DAY_START + 3599)), Some(first));
        assert_eq!(r.period_index(at(DAY_START + 3600)), Some(first + 1));
        assert_eq!(r.period_index(at(DAY_START - 1)), Some(first - 1));
    }

    #[test]
    fn daily_changes_at_utc_midnight() {
        let r = Rotation::Daily;
        let day = r.period_index(at(DAY_START)).unwrap();
        assert_eq!(day, 19_792);
        assert_eq!(r.period_index(at(DAY_START + 86_399)), Some(day));
        assert_eq!(r.period_index(at(DAY_START + 86_400)), Some(day + 1));
    }

    #[test]
    fn subsecond_and_pre_epoch_times() {
        let t = at(DAY_START) + Duration::from_millis(999);
        assert_eq!(Rotation::Daily.period_index(t), Some(19_792));
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(Rotation::Hourly.period_index(before), Some(0));
    }
}
