//! What the queue does when it is full.

use std::time::Duration;

/// What happens to an event offered to a full queue.
///
/// Whatever the policy, events at ERROR and above are protected: when the
/// queue is full they evict a lower-level event instead of being lost, unless
/// the queue holds only protected events. Every loss is counted and reported
/// in-band by a WARN record once there is room again.
///
/// ```
/// use fapilog_core::pipeline::OverflowPolicy;
/// use std::time::Duration;
///
/// assert_eq!(OverflowPolicy::default(), OverflowPolicy::DropOldest);
/// let strict = OverflowPolicy::Block { timeout: Duration::from_millis(50) };
/// assert!(matches!(strict, OverflowPolicy::Block { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Evict the oldest queued (unprotected) event to make room. The default:
    /// recent events are usually the ones that explain a problem.
    #[default]
    DropOldest,
    /// Refuse the incoming event.
    DropNewest,
    /// Wait up to `timeout` for room, then refuse the event. The caller's
    /// thread blocks meanwhile: use it only where losing logs is worse.
    Block {
        /// How long a caller may wait for room.
        timeout: Duration,
    },
}
