//! The writer's clock: what aggregation windows and throttle buckets measure time with.
//!
//! The writer reads the clock once per batch and hands the reading to every
//! [`Processor`](crate::process::Processor). Production code uses
//! [`SystemClock`]; tests inject a [`ManualClock`] and move it forward by
//! hand, so window ends and refills happen exactly when the test says, with
//! no sleeping. Any `Fn() -> Instant` is a clock too.
//!
//! # Example
//!
//! ```
//! use fapilog_core::clock::{Clock, ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let start = clock.now();
//! clock.advance(Duration::from_millis(1500));
//! assert_eq!(clock.now() - start, Duration::from_millis(1500));
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of monotonic time for the writer's stages.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock, [`Instant::now`]. The default.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct SystemClock;

impl SystemClock {
    /// The real clock.
    pub fn new() -> Self {
        SystemClock
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl<F: Fn() -> Instant + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Instant {
        self()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use fapilog_core::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let seen_by_writer = clock.clone();
/// let t0 = seen_by_writer.now();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(seen_by_writer.now() - t0, Duration::from_secs(2));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    origin: Instant,
    offset_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at the moment it was made.
    pub fn new() -> Self {
        ManualClock {
            origin: Instant::now(),
            offset_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the clock forward by `by`; it stops at its end (584 years on)
    /// rather than wrap back to its start.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                Some(offset.saturating_add(nanos))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.origin + Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field(
                "elapsed",
                &Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_never_goes_back() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(1));
        let t1 = clock.now();
        clock.advance(Duration::MAX);
        let t2 = clock.now();
        clock.advance(Duration::from_secs(1));
        let t3 = clock.now();
        assert!(t1 < t2 && t2 <= t3);
    }
}
