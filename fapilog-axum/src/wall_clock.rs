//! The wall-clock millisecond of a request's start, for its generated UUID v7,
//! from the monotonic reading the layer takes anyway: one clock read per
//! request instead of two.
//!
//! The offset between the two clocks is read again once per [`REFRESH`] of
//! monotonic time. Between refreshes a wall-clock step (or a suspend, which
//! the monotonic clock does not count) shows up late, by at most that long:
//! harmless for an ID, which needs its millisecond only to sort roughly by
//! time. Log timestamps never come from here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the offset between the two clocks is read again.
const REFRESH: Duration = Duration::from_secs(1);
/// A wall-clock reading bracketed by monotonic readings further apart than
/// this (the thread was preempted in between) is taken again.
const MAX_BRACKET: Duration = Duration::from_micros(20);

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

    /// The wall-clock time at `instant` (instants before this clock was made count as its start).
    pub(crate) fn at(&self, instant: Instant) -> SystemTime {
        let since_base = nanos(instant.saturating_duration_since(self.base));
        // Acquire pairs with the refresh's release: an offset at least as new
        // as the refresh point seen is read.
        if since_base >= self.refresh_at.load(Ordering::Acquire) {
            self.refresh(since_base);
        }
        let wall = self
            .offset_nanos
            .load(Ordering::Relaxed)
            .saturating_add(since_base);
        UNIX_EPOCH + Duration::from_nanos(wall)
    }

    fn refresh(&self, since_base: u64) {
        let (wall, mono) = self.read_both();
        self.offset_nanos
            .store(wall.saturating_sub(mono), Ordering::Relaxed);
        self.refresh_at
            .store(since_base.saturating_add(nanos(REFRESH)), Ordering::Release);
    }

    /// Wall-clock and monotonic nanoseconds (since the epoch, since `base`) read together.
    fn read_both(&self) -> (u64, u64) {
        let mut best = None;
        for _ in 0..3 {
            let before = Instant::now();
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let after = Instant::now();
            let gap = after.saturating_duration_since(before);
            let mono = before + gap / 2;
            let reading = (
                nanos(wall),
                nanos(mono.saturating_duration_since(self.base)),
            );
            if gap <= MAX_BRACKET {
                return reading;
            }
            best.get_or_insert(reading);
        }
        best.unwrap_or_default()
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
        let before = wall_nanos(SystemTime::now());
        let derived = wall_nanos(clock.at(Instant::now()));
        let after = wall_nanos(SystemTime::now());
        // Between the two direct readings, give or take a scheduling delay
        // during the refresh (an ID needs only its millisecond).
        let slack = 50_000_000;
        assert!(derived >= before - slack && derived <= after + slack);
    }

    #[test]
    fn later_instants_are_later_and_refresh_keeps_it_right() {
        let clock = WallClock::new();
        let start = Instant::now();
        let later = start + Duration::from_secs(5);
        let a = clock.at(start);
        let b = clock.at(later);
        let gap = b.duration_since(a).unwrap();
        // `later` is past the refresh point: the offset was read again (the
        // next refresh is due a `REFRESH` after `later`), so the gap is 5 s
        // give or take how far the clocks moved apart meanwhile.
        let since_base = nanos(later.saturating_duration_since(clock.base));
        let refresh_at = clock.refresh_at.load(Ordering::Acquire);
        assert_eq!(refresh_at, since_base + nanos(REFRESH));
        assert!(gap > Duration::from_millis(4_900) && gap < Duration::from_millis(5_100));
    }
}
