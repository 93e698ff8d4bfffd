//! What the queue does when it is full.

use std::time::Duration;

/// What happens to an event offered to a full queue.
///
/// Whatever the policy, WARN and ERROR events are protected from a flood of
/// lesser ones: a full queue ranks events INFO and below, then WARN, then
/// ERROR and above, and an incoming event evicts the oldest queued event of
/// the lowest rank below its own instead of being lost. Only among events of
/// its own rank does the policy decide. Every loss is counted and reported
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
    /// Evict the oldest queued event of the incoming event's rank to make
    /// room. The default: recent events are usually the ones that explain a
    /// problem. (An event looks for one only among the first 16 queued
    /// events, so that events of higher ranks piled at the front, such as
    /// ERRORs before a WARN flood, are not moved on every push of the flood;
    /// past them it is refused.)
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
