//! Per-request contexts, recycled on the thread that serves requests.
//!
//! Every event of a request shares the request's `Arc<Context>`, and the
//! writer thread usually drops the last reference, after the response has
//! gone. With the system allocator, memory freed on the writer thread goes
//! back to the serving thread only through the allocator's shared bins, cold
//! in another core's cache: measured at ~240 ns per request
//! (`docs/benchmarks.md`, "Middleware"). So the layer keeps each finished
//! request's context and reuses it once nothing else holds it; the writer
//! then only decrements a count.
//!
//! A context is reused only when [`Arc::get_mut`] proves the pool holds the
//! one reference left, so no event or logger can see it change. Contexts
//! are taken oldest first: the writer has most likely released those.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use fapilog_core::Context;

/// Contexts kept per thread; beyond this, finished ones are dropped. A context
/// is free again once the writer has taken the request's events, typically
/// within a few hundred requests under load (the writer takes batches of
/// about 256 events by default, or what came in 10 ms); 4,096 of them hold ~400 KB per thread
/// at most.
const POOL_SIZE: usize = 4096;
/// Contexts looked at before giving up and allocating.
const TRIES: usize = 2;

thread_local! {
    static POOL: RefCell<VecDeque<Arc<Context>>> = const { RefCell::new(VecDeque::new()) };
}

/// A context with `id` as its correlation ID and no fields.
pub(crate) fn acquire(id: &str) -> Arc<Context> {
    let fresh = || Context::new().with_correlation_id(id);
    let reused = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
            for _ in 0..TRIES.min(pool.len()) {
                let mut context = pool.pop_front()?;
                if let Some(slot) = Arc::get_mut(&mut context) {
                    *slot = fresh();
                    return Some(context);
                }
                pool.push_back(context);
            }
            None
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| Arc::new(fresh()))
}

/// Gives a finished request's context back for reuse.
pub(crate) fn release(context: Arc<Context>) {
    // On a thread being torn down the pool is gone: the context is just dropped.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_SIZE {
            pool.push_back(context);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_context_is_reused_with_the_new_id() {
        let first = acquire("a");
        let addr = Arc::as_ptr(&first);
        release(first);
        let second = acquire("b");
        assert_eq!(Arc::as_ptr(&second), addr);
        assert_eq!(second.correlation_id(), Some("b"));
        assert!(second.fields().is_empty());
    }

    #[test]
    fn a_context_still_held_elsewhere_is_never_changed() {
        let first = acquire("held");
        let event_ref = Arc::clone(&first);
        release(first);
        let second = acquire("other");
        assert!(!Arc::ptr_eq(&second, &event_ref));
        assert_eq!(event_ref.correlation_id(), Some("held"));
        assert_eq!(second.correlation_id(), Some("other"));
    }
}
