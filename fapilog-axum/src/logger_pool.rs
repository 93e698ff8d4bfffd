//! Per-request loggers, recycled on the thread that serves requests.
//!
//! A request's logger and its context are two allocations, and every event
//! of the request shares the context: the writer thread usually drops the
//! last reference, after the response has gone. With the system allocator,
//! memory freed on the writer thread goes back to the serving thread only
//! through the allocator's shared bins, cold in another core's cache:
//! measured at ~240 ns per request (`docs/benchmarks.md`, "Middleware"). So
//! the layer keeps each finished request's logger and reuses it, context and
//! all, once nothing else holds either ([`Logger::rescope`]); the writer then
//! only decrements a count.
//!
//! Loggers are taken oldest first: the writer has most likely released their
//! contexts. A pooled logger keeps a handle on its pipeline until it is
//! reused; reuse by another layer's request re-points it at that layer's.
//! An unkept request's logger lets go of its gate before it is pooled when
//! nothing else holds the logger ([`Logger::retire_gate`]): the request's
//! buffer is then free for the next unkept request (`request.rs`), not held
//! until this logger's reuse.

use std::collections::VecDeque;
use std::sync::Arc;

use fapilog_core::{Context, CorrelationText, EventGate, Logger};

use crate::recycle::{self, Pool};

/// Loggers kept per thread; beyond this, finished ones are dropped. A logger
/// is free again once the writer has taken the request's events, typically
/// within a few hundred requests under load (the writer takes batches of
/// about 256 events by default, or what came in 10 ms); 4,096 of them hold
/// ~700 KB per thread at most.
const POOL_SIZE: usize = 4096;
/// Loggers looked at before giving up and allocating.
const TRIES: usize = 2;

thread_local! {
    static POOL: Pool<Logger> = const { Pool::new(VecDeque::new()) };
}

/// `root.scoped(..)` with a context holding only `id`, and `gate`.
pub(crate) fn acquire(root: &Logger, id: &CorrelationText, gate: Arc<dyn EventGate>) -> Logger {
    let mut gate = gate;
    for _ in 0..TRIES {
        let Some(mut logger) = recycle::take_oldest(&POOL) else {
            break;
        };
        match logger.rescope(root, id, gate) {
            Ok(()) => return logger,
            Err(back) => gate = back,
        }
        release(logger);
    }
    root.scoped(Context::new().with_correlation_text(id.clone()), gate)
}

/// Gives a finished request's logger back for reuse.
pub(crate) fn release(logger: Logger) {
    recycle::give_back(&POOL, logger, POOL_SIZE);
}

#[cfg(test)]
mod tests {
    use fapilog_core::pipeline::Pipeline;
    use fapilog_core::RawEvent;

    use super::*;

    #[derive(Debug)]
    struct Pass;

    impl EventGate for Pass {
        fn route(&self, event: RawEvent, pipeline: &fapilog_core::Pipeline) {
            pipeline.submit(event);
        }
    }

    fn id_of(logger: &Logger) -> Option<&str> {
        logger.context().and_then(Context::correlation_id)
    }

    fn context_ptr(logger: &Logger) -> *const Context {
        logger
            .context()
            .map_or(std::ptr::null(), std::ptr::from_ref)
    }

    #[test]
    fn a_released_logger_is_reused_with_the_new_id() {
        let (pipeline, _guard) = Pipeline::builder().build().unwrap();
        let root = pipeline.logger();
        let first = acquire(&root, &CorrelationText::new("a"), Arc::new(Pass));
        let addr = context_ptr(&first);
        release(first);
        let second = acquire(&root, &CorrelationText::new("b"), Arc::new(Pass));
        assert_eq!(context_ptr(&second), addr);
        assert_eq!(id_of(&second), Some("b"));
        assert!(second.context().unwrap().fields().is_empty());
    }

    #[test]
    fn a_logger_still_held_elsewhere_is_never_changed() {
        let (pipeline, _guard) = Pipeline::builder().build().unwrap();
        let root = pipeline.logger();
        let first = acquire(&root, &CorrelationText::new("held"), Arc::new(Pass));
        let handler_copy = first.clone();
        release(first);
        let second = acquire(&root, &CorrelationText::new("other"), Arc::new(Pass));
        assert_ne!(context_ptr(&second), context_ptr(&handler_copy));
        assert_eq!(id_of(&handler_copy), Some("held"));
        assert_eq!(id_of(&second), Some("other"));
    }

    #[test]
    fn a_reused_logger_takes_the_new_roots_pipeline() {
        let (one, _g1) = Pipeline::builder().build().unwrap();
        let (two, _g2) = Pipeline::builder().build().unwrap();
        let first = acquire(&one.logger(), &CorrelationText::new("a"), Arc::new(Pass));
        release(first);
        let second = acquire(&two.logger(), &CorrelationText::new("b"), Arc::new(Pass));
        assert!(second.pipeline().same_as(&two));
    }
}
