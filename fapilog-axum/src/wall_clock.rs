//! The wall-clock time of a request's start, from the monotonic reading the
//! layer takes anyway: one clock read per request instead of two.
//!
//! The offset between the two clocks is read once per [`REFRESH`]; both are
//! slewed alike by NTP, so between refreshes they only drift apart when the
//! wall clock is stepped, and then for at most one refresh period.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the offset between the two clocks is read again.
const REFRESH: Duration = Duration::from_secs(1);

/// Converts monotonic instants to wall-clock time.
#[derive(Debug)]
pub(crate) struct WallClock {
    base: Instant,
    /// Wall-clock nanoseconds since the epoch at `base`.
    offset_nanos: AtomicU64,
    /// Nanoseconds after `base` when the offset is read again.
    refresh_at: AtomicU64,
}

impl WallClock {
    pub(crate) fn new() -> Self {
        let clock = WallClock {
            base: Instant::now(),
            offset_nanos: AtomicU64::new(0),
            refresh_at: AtomicU64::new(0),
        };
        clock.refresh(0);
        clock
    }

    /// The wall-clock time at `instant` (not before this clock was made).
    pub(crate) fn at(&self, instant: Instant) -> SystemTime {
        let since_base = nanos(instant.saturating_duration_since(self.base));
        if since_base >= self.refresh_at.load(Ordering::Relaxed) {
            self.refresh(since_base);
        }
        let wall = self.offset_nanos.load(Ordering::Relaxed) + since_base;
        UNIX_EPOCH + Duration::from_nanos(wall)
    }

    fn refresh(&self, since_base: u64) {
        let now = Instant::now();
        let wall = nanos(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        );
        let mono = nanos(now.saturating_duration_since(self.base));
        self.offset_nanos
            .store(wall.saturating_sub(mono), Ordering::Relaxed);
        self.refresh_at
            .store(since_base + nanos(REFRESH), Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall_nanos(t: SystemTime) -> i128 {
        t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128
    }

    #[test]
    fn agrees_with_the_system_clock() {
        let clock = WallClock::new();
        for _ in 0..3 {
            let before = wall_nanos(SystemTime::now());
            let derived = wall_nanos(clock.at(Instant::now()));
            let after = wall_nanos(SystemTime::now());
            // Within the two direct readings, give or take the clocks' own jitter.
            let slack = 1_000_000;
            assert!(derived >= before - slack && derived <= after + slack);
        }
    }

    #[test]
    fn later_instants_are_later_and_refresh_keeps_it_right() {
        let clock = WallClock::new();
        let start = Instant::now();
        let later = start + Duration::from_secs(5);
        let a = clock.at(start);
        let b = clock.at(later);
        let gap = b.duration_since(a).unwrap();
        // `later` is past the refresh point: the offset was read again, so
        // the gap is 5 s give or take how far the clocks moved apart meanwhile.
        assert!(gap > Duration::from_millis(4_900) && gap < Duration::from_millis(5_100));
    }
}
