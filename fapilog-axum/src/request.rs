//! The gates that keep, hold or discard each event of a request.
//!
//! A kept request's events go straight to the pipeline: it needs no state of
//! its own, so the layer's [`Shared`] settings serve every such request. An
//! unkept request, excluded ones (a never-path) included, gets a
//! [`HeldRequest`]: its events wait in a bounded buffer (oldest overwritten
//! and counted; a global budget caps what all requests hold together); an
//! ERROR event, a 5xx or a panic promotes the request: the buffer is written
//! in order and every later event is kept, for a failing request keeps all
//! its logs. At the end (the response, or the request's future dropped
//! before it) an unpromoted buffer is discarded and counted; ERROR and above
//! logged after that (by a spawned task) are still written. A finished
//! `HeldRequest` is pooled on its thread (`recycle.rs`) and reused, buffer
//! and all, by a later unkept request once nothing else holds it: no
//! allocation per unkept request.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use fapilog_core::{EventGate, Pipeline, RawEvent, SamplingTag};

use crate::layer::Shared;
use crate::recycle::{self, Pool};

/// How a request's events are treated, from its sampling decision.
#[derive(Debug)]
pub(crate) enum Mode {
    /// Every event written, through the layer's [`Shared`] settings.
    Kept,
    /// Held for promotion in the request's own buffer.
    Held(Arc<HeldRequest>),
    /// A never-path: held like an unkept request, and counted as excluded.
    Excluded(Arc<HeldRequest>),
}

impl Mode {
    /// The gate the request's logger routes its events through.
    pub(crate) fn gate(&self, shared: &Arc<Shared>) -> Arc<dyn EventGate> {
        match self.held() {
            None => shared.clone(),
            Some(held) => held.clone(),
        }
    }

    /// The buffer of an unkept or excluded request.
    pub(crate) fn held(&self) -> Option<&Arc<HeldRequest>> {
        match self {
            Mode::Kept => None,
            Mode::Held(held) | Mode::Excluded(held) => Some(held),
        }
    }
}

fn tag(event: &mut RawEvent, rate: f64, sampled: bool, promoted: bool) {
    event.set_sampling(SamplingTag {
        sampled,
        sample_rate: rate,
        promoted,
    });
}

/// Kept requests need no state of their own: the layer's shared settings
/// are their gate. Every event is written. (A gate allocated per request
/// would cost an allocation; a separate shared one, a second reference count
/// touched by every request on every core.)
impl EventGate for Shared {
    fn route(&self, mut event: RawEvent, pipeline: &Pipeline) {
        tag(&mut event, self.sampling.get_rate().get(), true, false);
        pipeline.submit(event);
    }
}

/// Limits on held events, shared by every request of one layer.
#[derive(Debug)]
pub(crate) struct HoldBudget {
    per_request: usize,
    global: usize,
    held: AtomicUsize,
}

impl HoldBudget {
    pub(crate) fn new(per_request: usize, global: usize) -> Self {
        HoldBudget {
            per_request,
            global,
            held: AtomicUsize::new(0),
        }
    }

    fn try_take(&self) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.global).then_some(n + 1)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        self.held.fetch_sub(n, Ordering::AcqRel);
    }
}

#[derive(Debug, Default)]
struct Held {
    events: VecDeque<RawEvent>,
    promoted: bool,
    finished: bool,
}

/// Finished unkept requests kept per thread for reuse (~0.9 MB at most).
const POOL_SIZE: usize = 1024;
/// Pooled requests looked at before giving up and allocating.
const POOL_TRIES: usize = 2;
/// Event slots a held request reserves, and keeps when it is pooled.
const POOLED_SLOTS: usize = 2;

thread_local! {
    static POOL: Pool<Arc<HeldRequest>> = const { Pool::new(VecDeque::new()) };
}

/// The gate of one unkept request: holds its events until it is promoted or
/// ends. Once it has ended it is pooled, buffer and all, for the next unkept
/// request on the same thread.
#[derive(Debug)]
pub(crate) struct HeldRequest {
    shared: Arc<Shared>,
    held: Mutex<Held>,
}

impl HeldRequest {
    fn new(shared: Arc<Shared>) -> Self {
        HeldRequest {
            shared,
            held: Mutex::new(Held::default()),
        }
    }

    /// An unkept request's gate for a request of the layer `shared`: a
    /// finished one from this thread's pool when nothing else holds it, else
    /// a new one.
    pub(crate) fn acquire(shared: &Arc<Shared>) -> Arc<HeldRequest> {
        for _ in 0..POOL_TRIES {
            let Some(mut pooled) = recycle::take_oldest(&POOL) else {
                break;
            };
            if let Some(request) = Arc::get_mut(&mut pooled) {
                request.reset(shared);
                return pooled;
            }
            recycle::give_back(&POOL, pooled, POOL_SIZE);
        }
        Arc::new(HeldRequest::new(Arc::clone(shared)))
    }

    /// Gives a finished request's gate back for reuse.
    pub(crate) fn release(request: Arc<HeldRequest>) {
        debug_assert!({
            let held = request.held();
            held.finished && held.events.is_empty()
        });
        recycle::give_back(&POOL, request, POOL_SIZE);
    }

    fn reset(&mut self, shared: &Arc<Shared>) {
        let held = self.held.get_mut().unwrap_or_else(PoisonError::into_inner);
        held.promoted = false;
        held.finished = false;
        if !Arc::ptr_eq(&self.shared, shared) {
            self.shared = Arc::clone(shared);
        }
    }

    fn budget(&self) -> &HoldBudget {
        &self.shared.budget
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tag(&self, event: &mut RawEvent, sampled: bool, promoted: bool) {
        tag(
            event,
            self.shared.sampling.get_rate().get(),
            sampled,
            promoted,
        );
    }

    /// Writes the held events in order and keeps every later one.
    fn promote(&self, held: &mut Held, pipeline: &Pipeline) {
        if held.promoted {
            return;
        }
        held.promoted = true;
        let n = held.events.len();
        for mut event in held.events.drain(..) {
            self.tag(&mut event, true, true);
            pipeline.submit(event);
        }
        self.budget().give_back(n);
    }

    fn hold(&self, held: &mut Held, event: RawEvent, pipeline: &Pipeline) {
        if held.events.len() >= self.budget().per_request {
            held.events.pop_front();
            self.budget().give_back(1);
            self.shared.counters.add_buffer_overwritten(1);
            pipeline.count_sampled_out(1);
        }
        if self.budget().try_take() {
            if held.events.capacity() == 0 {
                // Most requests hold one or two events; the deque's own first
                // growth (four slots) is too big for the allocator's thread cache.
                held.events.reserve_exact(POOLED_SLOTS);
            }
            held.events.push_back(event);
        } else {
            self.shared.counters.add_budget_exhausted(1);
            pipeline.count_sampled_out(1);
        }
    }

    /// The request ended with `failed` (5xx or panic); returns whether its logs are kept.
    pub(crate) fn finish(&self, failed: bool) -> bool {
        let pipeline = &self.shared.pipeline;
        let mut held = self.held();
        held.finished = true;
        let kept = failed || held.promoted;
        if kept {
            self.promote(&mut held, pipeline);
        } else {
            let n = held.events.len();
            held.events.clear();
            self.budget().give_back(n);
            pipeline.count_sampled_out(n as u64);
        }
        if held.events.capacity() > POOLED_SLOTS {
            // Pooled, a buffer that grew would keep its size for nothing.
            held.events = VecDeque::new();
        }
        kept
    }
}

impl EventGate for HeldRequest {
    fn route(&self, mut event: RawEvent, pipeline: &Pipeline) {
        let mut held = self.held();
        let protected = event.level().is_protected();
        if protected && !held.finished {
            self.promote(&mut held, pipeline);
        }
        if held.promoted {
            self.tag(&mut event, true, true);
            pipeline.submit(event);
        } else if !held.finished {
            self.hold(&mut held, event, pipeline);
        } else if protected {
            // After the response, an ERROR can no longer change the request's
            // decision, but priority still writes it.
            self.tag(&mut event, false, false);
            pipeline.submit(event);
        } else {
            pipeline.count_sampled_out(1);
        }
    }
}

impl Drop for HeldRequest {
    fn drop(&mut self) {
        // A request is finished when it answers or when its future is
        // dropped (`future.rs`); should one never be, what it still holds
        // is discarded here, and counted.
        let held = self.held.get_mut().unwrap_or_else(PoisonError::into_inner);
        let n = held.events.len();
        if n > 0 && !held.promoted {
            self.budget().give_back(n);
            self.shared.pipeline.count_sampled_out(n as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use fapilog_core::Level;

    use super::*;
    use crate::FapilogLayer;

    fn shared() -> Arc<Shared> {
        let layer = FapilogLayer::builder()
            .pipeline(Pipeline::closed())
            .build()
            .unwrap();
        Arc::clone(layer.shared())
    }

    fn route(request: &HeldRequest, level: Level) {
        request.route(RawEvent::new(level, "event"), &request.shared.pipeline);
    }

    #[test]
    fn a_finished_request_is_reused_without_its_decision() {
        let shared = shared();
        let first = HeldRequest::acquire(&shared);
        route(&first, Level::Error);
        assert!(first.finish(false), "an ERROR promotes");
        let addr = Arc::as_ptr(&first);
        HeldRequest::release(first);

        let second = HeldRequest::acquire(&shared);
        assert_eq!(Arc::as_ptr(&second), addr);
        route(&second, Level::Info);
        assert_eq!(second.held().events.len(), 1, "held, not written");
        assert!(
            !second.finish(false),
            "not promoted: the last decision is gone"
        );
    }

    #[test]
    fn a_request_still_held_elsewhere_is_not_reused() {
        let shared = shared();
        let first = HeldRequest::acquire(&shared);
        first.finish(false);
        let logger_gate = Arc::clone(&first);
        HeldRequest::release(first);
        let second = HeldRequest::acquire(&shared);
        assert!(!Arc::ptr_eq(&second, &logger_gate));
        assert!(logger_gate.held().finished, "the held one is unchanged");
    }

    #[test]
    fn a_reused_request_takes_the_new_layers_settings() {
        let (one, two) = (shared(), shared());
        let first = HeldRequest::acquire(&one);
        first.finish(false);
        let addr = Arc::as_ptr(&first);
        HeldRequest::release(first);
        let second = HeldRequest::acquire(&two);
        assert_eq!(Arc::as_ptr(&second), addr);
        assert!(Arc::ptr_eq(&second.shared, &two));
    }

    #[test]
    fn a_buffer_that_grew_is_not_kept() {
        let shared = shared();
        for failed in [false, true] {
            let request = HeldRequest::acquire(&shared);
            for _ in 0..5 {
                route(&request, Level::Info);
            }
            assert!(request.held().events.capacity() >= 5);
            assert_eq!(request.finish(failed), failed);
            assert_eq!(request.held().events.capacity(), 0);
        }
    }
}
