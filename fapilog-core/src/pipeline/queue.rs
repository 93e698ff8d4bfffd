//! The bounded queue between callers and the writer.
//!
//! Two locks with separate jobs. A spin lock guards the queue state and is
//! held only for a push or for swapping the whole deque with the writer's
//! empty spare; its unlock is a plain release store, so a caller never waits
//! for the event it just wrote to reach memory (the fence in a futex mutex's
//! unlock did exactly that, and cost more than the rest of the call). A std
//! mutex with condvars is used only to sleep and to wake: the writer while it
//! waits for work, `Block` callers while they wait for room, flushers while
//! they wait for progress. Whoever waits holds the sleep mutex from checking
//! the state to waiting; whoever wakes takes it to notify, so no wake-up is lost.
//!
//! The writer is woken only when the queue goes from empty to non-empty, when
//! it reaches twice the batch size, on a protected (ERROR+) event, on flush
//! and on close; otherwise it lingers for a batch, timing that wait itself
//! (`pace.rs`), so a steady stream of events costs its producers almost no
//! wake-ups.

use std::cell::Cell;
use std::collections::VecDeque;
use std::num::NonZeroU64;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use spin::mutex::{SpinMutex, SpinMutexGuard};
use spin::relax::Yield;

use crate::event::RawEvent;
use crate::level::Level;
use crate::pipeline::overflow::OverflowPolicy;

/// Why an event that was offered to the queue was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossReason {
    /// The queue was full (evicted under DropOldest, or refused under DropNewest).
    Overflow,
    /// The queue stayed full for the whole `Block` timeout.
    BlockTimeout,
}

impl LossReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LossReason::Overflow => "overflow",
            LossReason::BlockTimeout => "block_timeout",
        }
    }
}

/// Events lost for one reason since the writer last reported, by sequence range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LossRange {
    pub(crate) reason: LossReason,
    pub(crate) count: u64,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
}

/// Counts kept under the queue lock: free to update on the hot path.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct QueueCounts {
    pub(crate) submitted: u64,
    pub(crate) dropped_overflow: u64,
    pub(crate) dropped_block_timeout: u64,
    pub(crate) dropped_shutdown: u64,
    pub(crate) dropped_deadline: u64,
    pub(crate) dropped_reentrant: u64,
    pub(crate) depth: usize,
    /// Producers waiting for room, each with an event counted as submitted.
    pub(crate) blocked: usize,
    pub(crate) high_water: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterState {
    Busy,
    /// Waiting for the first event.
    Idle,
    /// Has events, waiting a little for more.
    Lingering,
}

thread_local! {
    /// The address of the queue whose writer runs on this thread, or 0.
    static WRITER_OF: Cell<usize> = const { Cell::new(0) };
}

#[derive(Debug)]
struct State {
    events: VecDeque<RawEvent>,
    /// Queued WARN and ERROR+ events, at their overflow rank (1 and 2; rank 0
    /// is the rest): a full queue looks for a lower rank only where there is one.
    ranked: [usize; 3],
    next_seq: u64,
    counts: QueueCounts,
    losses: Vec<LossRange>,
    writer: WriterState,
    urgent: bool,
    flush_requested: bool,
    flushed_before: u64,
    blocked_producers: usize,
    closed: bool,
    writer_done: bool,
    /// A drain missed its deadline: what was queued was dropped, and the
    /// batch in the writer's hands may never be written.
    abandoned: bool,
}

/// What the writer takes from the queue in one go.
#[derive(Debug)]
pub(crate) struct Take {
    /// Losses to report before the batch's events.
    pub(crate) losses: Vec<LossRange>,
    /// Every event with a smaller sequence number is in this batch or was dropped.
    pub(crate) resolved_before: u64,
    /// The writer must flush its sinks after this batch.
    pub(crate) flush: bool,
    /// The queue is closed and empty: this is the last batch.
    pub(crate) last: bool,
}

/// An empty deque with room for `capacity` events, every page of it already
/// written once. A ring buffer passes over all its slots sooner or later;
/// touching them here moves the minor page faults (~1.3 µs each, one per
/// 13 events: `docs/architecture/hot-path-profile.md`) from callers to startup.
pub(crate) fn prefaulted(capacity: usize) -> VecDeque<RawEvent> {
    let mut deque = VecDeque::with_capacity(capacity);
    let room = deque.capacity();
    deque.resize_with(room, || RawEvent::new(Level::Trace, ""));
    deque.clear();
    deque
}

/// Takes the queue's deque, and with it its room, once no event can enter
/// it any more (the queue is closed and the writer done): prefaulted for
/// `capacity` events (megabytes), it would otherwise stay resident for as
/// long as anything holds the pipeline, pooled request loggers included.
/// The caller drops it after the lock is released.
fn release_room(st: &mut State) -> VecDeque<RawEvent> {
    std::mem::take(&mut st.events)
}

/// How far into a full queue an incoming event looks for one of its own rank
/// to evict under `DropOldest` (see `Queue::room_for`).
const EVICTION_WINDOW: usize = 16;

/// What a full queue does with an incoming event.
enum Room {
    Evict(usize),
    Refuse,
    Wait(Duration),
}

/// The queue shared by callers and the writer.
#[derive(Debug)]
pub(crate) struct Queue {
    state: SpinMutex<State, Yield>,
    sleep: Mutex<()>,
    writer_wake: Condvar,
    space: Condvar,
    progress: Condvar,
    capacity: usize,
    batch_size: usize,
    /// The depth at which a producer wakes a lingering writer; the writer
    /// times its own wait for `batch_size` (`pace.rs`), so this is a backstop.
    wake_depth: usize,
    policy: OverflowPolicy,
}

impl Queue {
    pub(crate) fn new(capacity: usize, batch_size: usize, policy: OverflowPolicy) -> Self {
        Queue {
            state: SpinMutex::new(State {
                events: prefaulted(capacity),
                ranked: [0; 3],
                next_seq: 1,
                counts: QueueCounts::default(),
                losses: Vec::new(),
                writer: WriterState::Busy,
                urgent: false,
                flush_requested: false,
                flushed_before: 1,
                blocked_producers: 0,
                closed: false,
                writer_done: false,
                abandoned: false,
            }),
            sleep: Mutex::new(()),
            writer_wake: Condvar::new(),
            space: Condvar::new(),
            progress: Condvar::new(),
            capacity,
            batch_size: batch_size.min(capacity),
            wake_depth: batch_size.saturating_mul(2).min(capacity),
            policy,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }

    #[inline]
    fn state(&self) -> SpinMutexGuard<'_, State> {
        self.state.lock()
    }

    fn sleep(&self) -> MutexGuard<'_, ()> {
        // The sleep mutex guards no data, so a poisoned one is as good as new.
        self.sleep.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers an event; never blocks unless the policy is `Block`, and then at most its timeout.
    ///
    /// The event is moved once, into its slot: a full or closed queue is
    /// handled out of line (under the same lock), so the common path holds no
    /// second event (an evicted one) and makes no other copy of this one.
    #[inline]
    pub(crate) fn push(&self, event: RawEvent) {
        if self.on_writer_thread() {
            self.refuse_reentrant();
            return;
        }
        let mut st = self.state();
        st.counts.submitted += 1;
        let len = st.events.len();
        // The second test never holds (the deque is made with room for
        // `capacity`), but it lets the compiler drop `push_back`'s growth
        // path, and with it a copy of the event kept in case growth unwinds.
        if st.closed || len >= self.capacity || len == st.events.capacity() {
            self.push_full(st, event);
            return;
        }
        let seq = take_seq(&mut st);
        let wake = self.enqueue(&mut st, event, seq);
        drop(st);
        if wake {
            self.wake_writer();
        }
    }

    /// Counts an event submitted by this queue's own writer thread (a sink,
    /// or a library it calls, logging): written, it would come back with
    /// every batch; and the writer cannot make room while it waits for it.
    #[cold]
    #[inline(never)]
    fn refuse_reentrant(&self) {
        let mut st = self.state();
        st.counts.submitted += 1;
        st.counts.dropped_reentrant += 1;
    }

    /// Marks the calling thread as this queue's writer.
    pub(crate) fn mark_writer_thread(&self) {
        WRITER_OF.set(std::ptr::from_ref(self) as usize);
    }

    /// Whether the calling thread is this queue's writer.
    #[inline(always)]
    pub(crate) fn on_writer_thread(&self) -> bool {
        WRITER_OF.get() == std::ptr::from_ref(self) as usize
    }

    /// Appends an event under the state lock, numbered `seq`; says whether the writer must be woken.
    #[inline]
    fn enqueue(&self, st: &mut State, event: RawEvent, seq: u64) -> bool {
        let protected = event.level.is_protected();
        let rank = usize::from(event.level.overflow_rank());
        if rank > 0 {
            st.ranked[rank] += 1;
        }
        st.events.push_back(event);
        if let Some(slot) = st.events.back_mut() {
            slot.seq = NonZeroU64::new(seq);
        }
        let depth = st.events.len();
        st.counts.high_water = st.counts.high_water.max(depth);
        if protected {
            st.urgent = true;
        }
        let wake = match st.writer {
            WriterState::Idle => true,
            WriterState::Lingering => protected || depth >= self.wake_depth,
            WriterState::Busy => false,
        };
        if wake {
            st.writer = WriterState::Busy;
        }
        wake
    }

    /// The queue was full (or closed): evict, refuse, or wait for room, as the
    /// policy says. Called with the state locked.
    ///
    /// The event's `seq` is taken when it enters the queue or is refused, so a
    /// producer that waited for room cannot put its event behind later ones.
    #[cold]
    #[inline(never)]
    fn push_full(&self, locked: SpinMutexGuard<'_, State>, event: RawEvent) {
        let rank = event.level.overflow_rank();
        let mut deadline = None;
        // Declared before the guard, so an evicted event is freed after the
        // lock is released, not while other producers spin on it.
        let mut evicted = None;
        let mut st = locked;
        loop {
            if st.closed {
                // A producer blocked for room was overtaken by shutdown.
                st.counts.dropped_shutdown += 1;
                let last_to_settle = deadline.is_some() && st.blocked_producers == 0;
                drop(st);
                if last_to_settle {
                    // The drain waits for it to report.
                    let _sleep = self.sleep();
                    self.progress.notify_all();
                }
                return;
            }
            if st.events.len() < self.capacity {
                break;
            }
            match self.room_for(&st, rank) {
                Room::Evict(index) => {
                    evicted = evict(&mut st, index);
                    break;
                }
                Room::Refuse => {
                    let seq = take_seq(&mut st);
                    record_loss(&mut st, LossReason::Overflow, seq);
                    return;
                }
                Room::Wait(timeout) => {
                    let until =
                        *deadline.get_or_insert_with(|| deadline_after(Instant::now(), timeout));
                    // Counted as blocked under the lock that counted it as
                    // submitted, until the lock that settles it: the writer's
                    // last batch must not take it for an event lost in flight.
                    st.blocked_producers += 1;
                    let wake = st.writer != WriterState::Busy;
                    st.writer = WriterState::Busy;
                    drop(st);
                    let room = self.wait_for_room(until, wake);
                    st = self.state();
                    st.blocked_producers -= 1;
                    if !room && !st.closed {
                        let seq = take_seq(&mut st);
                        record_loss(&mut st, LossReason::BlockTimeout, seq);
                        return;
                    }
                }
            }
        }
        let seq = take_seq(&mut st);
        let wake = self.enqueue(&mut st, event, seq);
        drop(st);
        drop(evicted);
        if wake {
            self.wake_writer();
        }
    }

    /// How to make room for an event of overflow `rank` (see `Level::overflow_rank`):
    /// evict the oldest event of the lowest rank below it, whatever the
    /// policy; otherwise the policy decides among events of its own rank.
    ///
    /// Under `DropOldest` an event looks for one of its own rank only among
    /// the first [`EVICTION_WINDOW`] queued events: when events of higher
    /// ranks pile up at the front (ERRORs before a WARN flood, WARNs before an
    /// INFO flood), evicting one behind them would move all of them, on every
    /// push of the flood; the incoming event is refused instead (the same
    /// loss, counted the same way). ERRORs have nothing ranked above them, so
    /// their oldest is always at the front once the lower ranks are gone.
    fn room_for(&self, st: &State, rank: u8) -> Room {
        let oldest_of = |r: u8| {
            let queued = match r {
                0 => st.events.len().saturating_sub(st.ranked[1] + st.ranked[2]),
                r => st.ranked[usize::from(r)],
            };
            if queued == 0 {
                return None;
            }
            st.events.iter().position(|e| e.level.overflow_rank() == r)
        };
        if let Some(i) = (0..rank).find_map(oldest_of) {
            return Room::Evict(i);
        }
        match self.policy {
            OverflowPolicy::DropOldest => st
                .events
                .iter()
                .take(EVICTION_WINDOW)
                .position(|e| e.level.overflow_rank() == rank)
                .map_or(Room::Refuse, Room::Evict),
            OverflowPolicy::Block { timeout } => Room::Wait(timeout),
            _ => Room::Refuse,
        }
    }

    /// Sleeps until the queue has room, is closed, or `deadline` passes; says whether there is room.
    fn wait_for_room(&self, deadline: Instant, wake: bool) -> bool {
        if wake {
            self.wake_writer();
        }
        self.wait_on(&self.space, deadline, |st| {
            st.events.len() < self.capacity || st.closed
        })
    }

    #[cold]
    fn wake_writer(&self) {
        let _sleep = self.sleep();
        self.writer_wake.notify_one();
    }

    /// Writer side: waits for work (at most `idle`, when given), lingers up
    /// to `linger` for a fuller batch, then swaps the queued events into
    /// `batch` (which must be empty). After an idle timeout the batch may be empty.
    pub(crate) fn take(
        &self,
        batch: &mut VecDeque<RawEvent>,
        linger: Duration,
        idle: Option<Duration>,
    ) -> Take {
        let idle_deadline = idle.map(|d| Instant::now() + d);
        let mut sleep = self.sleep();
        let mut timed_out = false;
        loop {
            let mut st = self.state();
            if !st.events.is_empty() || !st.losses.is_empty() || st.flush_requested || st.closed {
                break;
            }
            st.writer = WriterState::Idle;
            drop(st);
            match idle_deadline {
                None => {
                    sleep = self
                        .writer_wake
                        .wait(sleep)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        timed_out = true;
                        break;
                    }
                    sleep = self
                        .writer_wake
                        .wait_timeout(sleep, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
        if !timed_out {
            sleep = self.linger(sleep, linger);
        }
        drop(sleep);
        let mut st = self.state();
        st.writer = WriterState::Busy;
        st.urgent = false;
        std::mem::swap(&mut st.events, batch);
        st.ranked = [0; 3];
        let blocked = st.blocked_producers > 0;
        let flush = std::mem::take(&mut st.flush_requested) || st.closed;
        let take = Take {
            losses: std::mem::take(&mut st.losses),
            resolved_before: st.next_seq,
            flush,
            last: st.closed,
        };
        drop(st);
        if blocked {
            let _sleep = self.sleep();
            self.space.notify_all();
        }
        take
    }

    /// Waits up to `linger` for a fuller batch (or anything that cannot wait).
    fn linger<'a>(&'a self, mut sleep: MutexGuard<'a, ()>, linger: Duration) -> MutexGuard<'a, ()> {
        let deadline = Instant::now() + linger;
        loop {
            let mut st = self.state();
            let ready = st.events.len() >= self.batch_size
                || st.urgent
                || st.flush_requested
                || st.closed
                || st.blocked_producers > 0;
            let now = Instant::now();
            if ready || now >= deadline {
                break;
            }
            st.writer = WriterState::Lingering;
            drop(st);
            sleep = self
                .writer_wake
                .wait_timeout(sleep, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        sleep
    }

    /// Writer side: the batch taken with `take` is written (and flushed, if asked).
    pub(crate) fn complete(&self, take: &Take) {
        let _room = {
            let mut st = self.state();
            if take.flush {
                st.flushed_before = st.flushed_before.max(take.resolved_before);
            }
            if take.last && st.events.is_empty() {
                st.writer_done = true;
                release_room(&mut st)
            } else {
                VecDeque::new()
            }
        };
        let _sleep = self.sleep();
        self.progress.notify_all();
    }

    /// Waits until every event queued before the call (numbered below
    /// `next_seq`; a `Block` producer still waiting has no number yet) is
    /// written and the sinks flushed, or `timeout` passes. Returns whether it
    /// completed in time.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        if self.on_writer_thread() {
            return false; // it would wait for itself
        }
        let deadline = deadline_after(Instant::now(), timeout);
        let (target, wake) = {
            let mut st = self.state();
            st.flush_requested = true;
            let wake = st.writer != WriterState::Busy;
            st.writer = WriterState::Busy;
            (st.next_seq, wake)
        };
        if wake {
            self.wake_writer();
        }
        let written = |st: &State| st.flushed_before >= target || (st.writer_done && !st.abandoned);
        self.wait_progress(deadline, |st| written(st) || st.abandoned) && written(&self.state())
    }

    fn wait_progress(&self, deadline: Instant, done: impl Fn(&State) -> bool) -> bool {
        self.wait_on(&self.progress, deadline, done)
    }

    /// Sleeps on `signal` until `done` holds (true) or `deadline` passes (false).
    fn wait_on(&self, signal: &Condvar, deadline: Instant, done: impl Fn(&State) -> bool) -> bool {
        let mut sleep = self.sleep();
        loop {
            if done(&self.state()) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            sleep = signal
                .wait_timeout(sleep, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Refuses new events from now on; the writer drains what is queued and stops.
    pub(crate) fn close(&self) {
        {
            let mut st = self.state();
            st.closed = true;
            st.writer = WriterState::Busy;
        }
        let _sleep = self.sleep();
        self.writer_wake.notify_one();
        self.space.notify_all();
    }

    /// Waits until the writer has written its last batch, or `deadline` passes.
    pub(crate) fn wait_writer_done(&self, deadline: Instant) -> bool {
        self.wait_progress(deadline, |st| st.writer_done)
    }

    /// After the writer's last batch, waits until the producers that were
    /// waiting for room (woken by `close`) have counted their events as
    /// dropped, or `deadline` passes.
    pub(crate) fn wait_blocked_settled(&self, deadline: Instant) -> bool {
        self.wait_progress(deadline, |st| st.blocked_producers == 0)
    }

    /// After a missed drain deadline: drops what is still queued, counted, and
    /// returns how many.
    pub(crate) fn abandon(&self) -> u64 {
        let abandoned = {
            let mut st = self.state();
            st.counts.dropped_deadline += st.events.len() as u64;
            st.ranked = [0; 3];
            st.writer_done = true;
            st.abandoned = true;
            release_room(&mut st)
        };
        let _sleep = self.sleep();
        self.progress.notify_all();
        abandoned.len() as u64
    }

    pub(crate) fn counts(&self) -> QueueCounts {
        let st = self.state();
        QueueCounts {
            depth: st.events.len(),
            blocked: st.blocked_producers,
            ..st.counts
        }
    }
}

/// `start + timeout`, or a century later where an `Instant` cannot reach
/// (a `Duration::MAX` timeout says "no deadline").
pub(crate) fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    start
        .checked_add(timeout)
        .or_else(|| start.checked_add(CENTURY))
        .unwrap_or(start)
}

/// The next sequence number.
fn take_seq(st: &mut State) -> u64 {
    let seq = st.next_seq;
    st.next_seq += 1;
    seq
}

/// Removes the event at `index` from a full queue and records its loss; returns it, to be freed unlocked.
fn evict(st: &mut State, index: usize) -> Option<RawEvent> {
    let victim = st.events.remove(index)?;
    let rank = usize::from(victim.level.overflow_rank());
    if rank > 0 {
        st.ranked[rank] = st.ranked[rank].saturating_sub(1);
    }
    record_loss(st, LossReason::Overflow, victim.seq().unwrap_or(0));
    Some(victim)
}

fn record_loss(st: &mut State, reason: LossReason, seq: u64) {
    match reason {
        LossReason::Overflow => st.counts.dropped_overflow += 1,
        LossReason::BlockTimeout => st.counts.dropped_block_timeout += 1,
    }
    match st.losses.iter_mut().find(|l| l.reason == reason) {
        Some(range) => {
            range.count += 1;
            range.first_seq = range.first_seq.min(seq);
            range.last_seq = range.last_seq.max(seq);
        }
        None => st.losses.push(LossRange {
            reason,
            count: 1,
            first_seq: seq,
            last_seq: seq,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;

    fn event(level: Level, n: u64) -> RawEvent {
        let mut e = RawEvent::new(level, "m");
        e.push_field("n", n);
        e
    }

    fn drain(q: &Queue) -> (Vec<(Level, u64)>, Take) {
        let mut batch = VecDeque::new();
        let take = q.take(&mut batch, Duration::ZERO, None);
        let got = batch
            .iter()
            .map(|e| (e.level(), e.fields()[0].value().as_u64().unwrap()))
            .collect();
        (got, take)
    }

    #[test]
    fn drop_oldest_evicts_the_front() {
        let q = Queue::new(3, 3, OverflowPolicy::DropOldest);
        for n in 0..5 {
            q.push(event(Level::Info, n));
        }
        let (got, take) = drain(&q);
        assert_eq!(got, [(Level::Info, 2), (Level::Info, 3), (Level::Info, 4)]);
        assert_eq!(take.losses.len(), 1);
        let loss = take.losses[0];
        assert_eq!((loss.count, loss.first_seq, loss.last_seq), (2, 1, 2));
        assert_eq!(q.counts().dropped_overflow, 2);
    }

    #[test]
    fn drop_newest_refuses_the_incoming() {
        let q = Queue::new(2, 2, OverflowPolicy::DropNewest);
        for n in 0..4 {
            q.push(event(Level::Info, n));
        }
        let (got, take) = drain(&q);
        assert_eq!(got, [(Level::Info, 0), (Level::Info, 1)]);
        assert_eq!((take.losses[0].first_seq, take.losses[0].last_seq), (3, 4));
    }

    #[test]
    fn protected_events_evict_unprotected_ones() {
        let q = Queue::new(3, 3, OverflowPolicy::DropNewest);
        q.push(event(Level::Error, 0));
        q.push(event(Level::Info, 1));
        q.push(event(Level::Info, 2));
        q.push(event(Level::Error, 3)); // evicts Info 1
        q.push(event(Level::Error, 4)); // evicts Info 2
        q.push(event(Level::Error, 5)); // only protected left: DropNewest refuses it
        q.push(event(Level::Info, 6)); // refused
        let (got, _) = drain(&q);
        assert_eq!(
            got,
            [(Level::Error, 0), (Level::Error, 3), (Level::Error, 4)]
        );
        let c = q.counts();
        assert_eq!((c.submitted, c.dropped_overflow), (7, 4));
    }

    #[test]
    fn drop_oldest_never_evicts_errors_for_info() {
        let q = Queue::new(2, 2, OverflowPolicy::DropOldest);
        q.push(event(Level::Error, 0));
        q.push(event(Level::Error, 1));
        q.push(event(Level::Info, 2));
        q.push(event(Level::Error, 3)); // all protected: oldest goes
        let (got, _) = drain(&q);
        assert_eq!(got, [(Level::Error, 1), (Level::Error, 3)]);
    }

    #[test]
    fn warn_survives_an_info_flood_and_errors_evict_info_before_warn() {
        for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
            let q = Queue::new(3, 3, policy);
            q.push(event(Level::Warn, 0));
            for n in 1..100 {
                q.push(event(Level::Info, n));
            }
            q.push(event(Level::Warn, 100)); // evicts the oldest Info
            q.push(event(Level::Error, 101)); // evicts the last Info, not a Warn
            q.push(event(Level::Error, 102)); // no Info left: evicts the oldest Warn
            q.push(event(Level::Info, 103)); // nothing of a lower rank: refused
            let (got, _) = drain(&q);
            assert_eq!(
                got,
                [(Level::Warn, 100), (Level::Error, 101), (Level::Error, 102)],
                "{policy:?}"
            );
        }
        // A Warn meeting only Warn and Error: the policy decides among the Warns.
        let q = Queue::new(2, 2, OverflowPolicy::DropOldest);
        for (level, n) in [(Level::Warn, 0), (Level::Error, 1), (Level::Warn, 2)] {
            q.push(event(level, n));
        }
        assert_eq!(drain(&q).0, [(Level::Error, 1), (Level::Warn, 2)]);
        let q = Queue::new(2, 2, OverflowPolicy::DropNewest);
        for (level, n) in [(Level::Warn, 0), (Level::Error, 1), (Level::Warn, 2)] {
            q.push(event(level, n));
        }
        assert_eq!(drain(&q).0, [(Level::Warn, 0), (Level::Error, 1)]);
    }

    #[test]
    fn info_behind_many_warnings_is_refused_not_dug_out() {
        let q = Queue::new(EVICTION_WINDOW + 2, 4, OverflowPolicy::DropOldest);
        for n in 0..EVICTION_WINDOW as u64 {
            q.push(event(Level::Warn, n));
        }
        q.push(event(Level::Info, 100));
        q.push(event(Level::Info, 101));
        q.push(event(Level::Info, 102)); // the oldest Info is past the window: refused
        let (got, take) = drain(&q);
        assert_eq!(
            got[EVICTION_WINDOW..],
            [(Level::Info, 100), (Level::Info, 101)]
        );
        assert_eq!(take.losses[0].count, 1);
    }

    #[test]
    fn a_warning_behind_many_errors_is_refused_not_dug_out() {
        let q = Queue::new(EVICTION_WINDOW + 2, 4, OverflowPolicy::DropOldest);
        for n in 0..EVICTION_WINDOW as u64 {
            q.push(event(Level::Error, n));
        }
        q.push(event(Level::Warn, 100));
        q.push(event(Level::Warn, 101));
        q.push(event(Level::Warn, 102)); // the oldest Warn is past the window: refused
        q.push(event(Level::Error, 103)); // evicts the oldest Warn, wherever it is
        let (got, take) = drain(&q);
        assert_eq!(
            got[EVICTION_WINDOW..],
            [(Level::Warn, 101), (Level::Error, 103)]
        );
        assert_eq!(take.losses[0].count, 2);
    }

    #[test]
    fn block_times_out_and_counts() {
        let q = Queue::new(
            1,
            1,
            OverflowPolicy::Block {
                timeout: Duration::from_millis(5),
            },
        );
        q.push(event(Level::Info, 0));
        q.push(event(Level::Info, 1));
        let c = q.counts();
        assert_eq!((c.submitted, c.dropped_block_timeout, c.depth), (2, 1, 1));
    }

    #[test]
    fn an_idle_take_returns_empty_after_its_timeout() {
        let q = Queue::new(4, 4, OverflowPolicy::DropOldest);
        let mut batch = VecDeque::new();
        let take = q.take(&mut batch, Duration::from_secs(60), Some(Duration::ZERO));
        assert!(batch.is_empty());
        assert!(!take.flush && !take.last && take.losses.is_empty());
        q.push(event(Level::Info, 1));
        let (got, _) = drain(&q);
        assert_eq!(got, [(Level::Info, 1)]);
    }

    fn wait_for_writer(q: &Queue, state: WriterState) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while q.state().writer != state {
            assert!(
                Instant::now() < deadline,
                "the writer never became {state:?}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn producers_wake_a_lingering_writer_only_at_twice_the_batch_size() {
        let q = Queue::new(16, 4, OverflowPolicy::DropOldest);
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            let writer = &q;
            scope.spawn(move || {
                let mut batch = VecDeque::new();
                writer.take(&mut batch, Duration::from_secs(600), None);
                tx.send(batch.len()).unwrap();
            });
            wait_for_writer(&q, WriterState::Idle);
            q.push(event(Level::Info, 0));
            wait_for_writer(&q, WriterState::Lingering);
            for n in 1..7 {
                q.push(event(Level::Info, n));
            }
            // A producer that wakes the writer marks it busy under the state
            // lock, so a writer still lingering now was not woken.
            let state = q.state().writer;
            assert_eq!(
                state,
                WriterState::Lingering,
                "woken below twice the batch size"
            );
            q.push(event(Level::Info, 7));
            assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(8));
        });
    }

    #[test]
    fn the_last_batch_and_an_abandoned_queue_free_the_queues_room() {
        let q = Queue::new(64, 8, OverflowPolicy::DropOldest);
        q.push(event(Level::Info, 1));
        q.close();
        // The writer's own batch, with room as the writer makes it: taking
        // swaps it into the queue.
        let mut batch = VecDeque::with_capacity(64);
        let take = q.take(&mut batch, Duration::ZERO, None);
        assert!(take.last);
        assert!(q.state().events.capacity() >= 64);
        q.complete(&take);
        assert_eq!(q.state().events.capacity(), 0);
        q.push(event(Level::Info, 2));
        assert_eq!((q.counts().dropped_shutdown, q.counts().depth), (1, 0));

        let q = Queue::new(64, 8, OverflowPolicy::DropOldest);
        q.push(event(Level::Info, 1));
        q.close();
        assert_eq!(q.abandon(), 1);
        assert_eq!(q.state().events.capacity(), 0);
        assert_eq!(q.counts().dropped_deadline, 1);
    }

    #[test]
    fn closed_queue_counts_late_events_as_dropped() {
        let q = Queue::new(4, 4, OverflowPolicy::DropOldest);
        q.close();
        q.push(event(Level::Error, 0));
        let c = q.counts();
        assert_eq!((c.submitted, c.dropped_shutdown, c.depth), (1, 1, 0));
    }

    #[test]
    fn the_rank_counts_follow_pushes_evictions_and_takes() {
        let q = Queue::new(8, 8, OverflowPolicy::DropOldest);
        let levels = [Level::Info, Level::Warn, Level::Error, Level::Debug];
        for n in 0..200u64 {
            // A sequence that mixes the ranks unevenly.
            let level = levels[(n * n % 7 % 4) as usize];
            q.push(event(level, n));
            let st = q.state();
            let mut recount = [0; 3];
            for e in &st.events {
                recount[usize::from(e.level.overflow_rank())] += 1;
            }
            assert_eq!(st.ranked[1..], recount[1..], "after push {n}");
            drop(st);
            if n % 50 == 49 {
                drain(&q);
                assert_eq!(q.state().ranked, [0; 3]);
            }
        }
    }
}
