//! How long the writer waits for a batch to fill.
//!
//! Producers wake a waiting writer with a system call, a few microseconds
//! each on their own thread. So the writer times its wait itself: from the
//! rate of the events it took last, it sleeps about as long as `batch_size`
//! of them take to arrive, never less than [`MIN_WAIT`] nor more than the
//! flush interval. Producers then wake it only when twice that many are
//! queued (or for what cannot wait: an ERROR event, a flush, a full queue).

use std::time::{Duration, Instant};

/// The shortest timed wait: shorter ones cost the writer more in timer
/// wake-ups than they save anyone.
pub(crate) const MIN_WAIT: Duration = Duration::from_micros(50);

/// The writer's estimate of how long the next batch takes to fill.
#[derive(Debug)]
pub(crate) struct Pace {
    batch_size: usize,
    max: Duration,
    last_take: Instant,
    wait: Duration,
}

impl Pace {
    /// Waits at most `max` (the flush interval) for `batch_size` events; counts from `now`.
    pub(crate) fn new(batch_size: usize, max: Duration, now: Instant) -> Self {
        Pace {
            batch_size: batch_size.max(1),
            max,
            last_take: now,
            wait: max,
        }
    }

    /// How long to wait for the next batch.
    pub(crate) fn wait(&self) -> Duration {
        self.wait
    }

    /// Records a take of `taken` events at `now`.
    pub(crate) fn taken(&mut self, taken: usize, now: Instant) {
        let interval = now.saturating_duration_since(self.last_take);
        self.last_take = now;
        self.wait =
            fill_time(self.batch_size, taken, interval).clamp(MIN_WAIT.min(self.max), self.max);
    }
}

/// How long `batch_size` events take at the rate of `taken` per `interval`.
fn fill_time(batch_size: usize, taken: usize, interval: Duration) -> Duration {
    if taken == 0 {
        return Duration::MAX;
    }
    let nanos = interval.as_nanos() * batch_size as u128 / taken as u128;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn waits_as_long_as_a_batch_takes_to_arrive() {
        let start = Instant::now();
        let mut pace = Pace::new(256, 10 * MS, start);
        assert_eq!(pace.wait(), 10 * MS);
        // 512 events in 2 ms: 256 arrive in 1 ms.
        pace.taken(512, start + 2 * MS);
        assert_eq!(pace.wait(), MS);
    }

    #[test]
    fn stays_between_the_minimum_and_the_flush_interval() {
        let start = Instant::now();
        let mut pace = Pace::new(256, 10 * MS, start);
        pace.taken(1_000_000, start + MS);
        assert_eq!(pace.wait(), MIN_WAIT);
        pace.taken(1, start + 2 * MS);
        assert_eq!(pace.wait(), 10 * MS);
        pace.taken(0, start + 3 * MS);
        assert_eq!(pace.wait(), 10 * MS);
    }

    #[test]
    fn a_flush_interval_below_the_minimum_is_kept() {
        let start = Instant::now();
        let mut pace = Pace::new(4, Duration::from_micros(10), start);
        pace.taken(1_000, start + MS);
        assert_eq!(pace.wait(), Duration::from_micros(10));
    }
}
