//! RFC 3339 UTC timestamps with exactly six fractional digits, written without allocating.
//!
//! The date comes from Howard Hinnant's `civil_from_days` algorithm
//! (<https://howardhinnant.github.io/date_algorithms.html>), done in unsigned
//! arithmetic because a [`Timestamp`] is written from its
//! [`unix_nanos`](Timestamp::unix_nanos), a `u64` of nanoseconds since the
//! epoch: a time before 1970 or after 2554 is clamped to the nearest end.
//! Every such timestamp has a four-digit year, so the output is always 27
//! bytes, e.g. `2026-11-22T13:05:00.123456Z`.
//!
//! # Example
//!
//! ```
//! // This module is crate-internal; its output shows as `ts` in every format.
//! use fapilog_core::format::{Format, JsonFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let event = RawEvent::new(Level::Info, "tick");
//! let mut out = Vec::new();
//! JsonFormat::new().encode(&Envelope::new(&event), &mut out);
//! let line = String::from_utf8(out).unwrap();
//! let ts = &line[r#"{"ts":""#.len()..][..27];
//! assert!(ts.starts_with("20") && ts.ends_with('Z') && ts.as_bytes()[19] == b'.');
//! ```

use crate::event::Timestamp;

/// Length of the formatted timestamp in bytes.
pub(crate) const RFC3339_MICROS_LEN: usize = 27;

const NANOS_PER_SEC: u64 = 1_000_000_000;
const SECS_PER_DAY: u64 = 86_400;

/// Year, month (1–12) and day (1–31) of the given day count since 1970-01-01.
const fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as u64;
    (year, month, day)
}

/// Writes `value` as exactly `slot.len()` decimal digits (zero-padded, high digits dropped).
#[inline]
fn put_digits(slot: &mut [u8], mut value: u64) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The timestamp as `YYYY-MM-DDTHH:MM:SS.ffffffZ` bytes.
pub(crate) fn rfc3339_micros(ts: Timestamp) -> [u8; RFC3339_MICROS_LEN] {
    let nanos = ts.unix_nanos();
    let secs = nanos / NANOS_PER_SEC;
    let micros = (nanos % NANOS_PER_SEC) / 1_000;
    let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
    let sod = secs % SECS_PER_DAY;

    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut buf[0..4], year);
    put_digits(&mut buf[5..7], month);
    put_digits(&mut buf[8..10], day);
    put_digits(&mut buf[11..13], sod / 3_600);
    put_digits(&mut buf[14..16], sod / 60 % 60);
    put_digits(&mut buf[17..19], sod % 60);
    put_digits(&mut buf[20..26], micros);
    buf
}

/// Writes timestamps as [`rfc3339_micros`] does, reusing the date and time
/// of day while the second is unchanged: a writer formats thousands of
/// events per second, and only their microseconds differ.
#[derive(Debug, Clone)]
pub(crate) struct TimestampCache {
    secs: Option<u64>,
    buf: [u8; RFC3339_MICROS_LEN],
}

impl TimestampCache {
    pub(crate) const fn new() -> Self {
        TimestampCache {
            secs: None,
            buf: [0; RFC3339_MICROS_LEN],
        }
    }

    /// Appends `ts` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` to `out`.
    #[inline]
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, ts: Timestamp) {
        let nanos = ts.unix_nanos();
        let secs = nanos / NANOS_PER_SEC;
        if self.secs == Some(secs) {
            put_digits(&mut self.buf[20..26], (nanos % NANOS_PER_SEC) / 1_000);
        } else {
            self.buf = rfc3339_micros(ts);
            self.secs = Some(secs);
        }
        out.extend_from_slice(&self.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(nanos: u64) -> String {
        String::from_utf8(rfc3339_micros(Timestamp::from_unix_nanos(nanos)).to_vec()).unwrap()
    }

    #[test]
    fn cache_matches_the_direct_path() {
        let mut cache = TimestampCache::new();
        let base = 1_709_210_096_000_000_000u64;
        for nanos in [
            base,
            base + 5_000,
            base + 999_999_999,
            base + 1_000_000_000,
            0,
            base,
        ] {
            let mut out = Vec::new();
            cache.write(&mut out, Timestamp::from_unix_nanos(nanos));
            assert_eq!(String::from_utf8(out).unwrap(), fmt(nanos));
        }
    }

    #[test]
    fn known_vectors() {
        assert_eq!(fmt(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(fmt(999), "1970-01-01T00:00:00.000000Z"); // sub-microsecond is cut, not rounded
        assert_eq!(
            fmt(1_709_210_096_789_012_000),
            "2024-02-29T12:34:56.789012Z"
        );
        assert_eq!(fmt(951_868_800_000_000_000), "2000-03-01T00:00:00.000000Z");
        assert_eq!(fmt(951_868_799_000_000_000), "2000-02-29T23:59:59.000000Z");
        assert_eq!(fmt(946_684_799_999_999_000), "1999-12-31T23:59:59.999999Z");
        assert_eq!(fmt(946_684_800_000_000_000), "2000-01-01T00:00:00.000000Z");
        assert_eq!(
            fmt(1_795_352_700_123_456_000),
            "2026-11-22T13:05:00.123456Z"
        );
        assert_eq!(
            fmt(4_107_542_400_000_000_000),
            "2100-03-01T00:00:00.000000Z"
        ); // 2100 is no leap year
        assert_eq!(fmt(u64::MAX), "2554-07-21T23:34:33.709551Z");
    }

    #[test]
    fn agrees_with_a_naive_day_walk() {
        // Walk day by day across several 400-year-cycle edges and compare.
        let mut y = 1970u64;
        let mut m = 1u64;
        let mut d = 1u64;
        for days in 0..(200 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
