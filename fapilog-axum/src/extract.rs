//! Reaching the request's logger: extractors, and the task-local for code without one.
//!
//! Handlers take `Logger` (it implements `FromRequestParts`) or
//! `Extension<Logger>`. Code deeper in the call stack, with no request at
//! hand, calls [`current_logger`] while the request's future runs; a task the
//! request spawns gets the logger through [`with_logger`].
//!
//! # Example
//!
//! ```
//! use fapilog_axum::current_logger;
//! use fapilog_core::info;
//!
//! fn charge_card(amount_cents: u64) {
//!     if let Some(log) = current_logger() {
//!         info!(log, "charging card", amount_cents);
//!     }
//! }
//! # charge_card(100); // outside a request: no logger, nothing logged
//! ```

use std::cell::Cell;
use std::future::Future;

use fapilog_core::Logger;

tokio::task_local! {
    pub(crate) static CURRENT: Logger;
}

thread_local! {
    /// The request's logger while the inner service's `call` runs, before
    /// its future exists. A thread-local moved in and out, not a scoped
    /// task-local: that cost a clone and two moves of the request.
    static IN_CALL: Cell<Option<Logger>> = const { Cell::new(None) };
}

/// The logger of the request whose future (or inner `call`, or streamed
/// response body, as an axum `Body` of unknown size) is running on this
/// task, if any.
pub fn current_logger() -> Option<Logger> {
    with_current(Logger::clone)
}

/// Runs `future` with `logger` as the [`current_logger`].
///
/// The request's logger is a task-local, so a task started with
/// `tokio::spawn` does not inherit it; wrap the task's future to carry it
/// over. What the task logs follows the request's sampling decision, even
/// after the response has gone out: kept requests' events are written, the
/// others' are counted as sampled out, except ERROR and above, which are
/// always written.
///
/// # Example
///
/// ```
/// use axum::{routing::post, Router};
/// use fapilog_axum::{current_logger, with_logger, FapilogLayer};
/// use fapilog_core::{info, Logger};
///
/// async fn send_receipt(order: u64) {
///     if let Some(log) = current_logger() {
///         info!(log, "receipt sent", order);
///     }
/// }
///
/// async fn checkout(log: Logger) -> &'static str {
///     tokio::spawn(with_logger(log, send_receipt(7)));
///     "accepted"
/// }
///
/// let app: Router = Router::new()
///     .route("/checkout", post(checkout))
///     .layer(FapilogLayer::new());
/// ```
pub fn with_logger<F: Future>(logger: Logger, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(logger, future)
}

/// Runs `f` with the current request's logger, if there is one.
pub(crate) fn with_current<R>(f: impl FnOnce(&Logger) -> R) -> Option<R> {
    // A clone, so code that `f` runs finds the logger in place too.
    let in_call = IN_CALL
        .try_with(|slot| {
            let logger = slot.take();
            let copy = logger.clone();
            slot.set(logger);
            copy
        })
        .ok()
        .flatten();
    match in_call {
        Some(logger) => Some(f(&logger)),
        None => CURRENT.try_with(f).ok(),
    }
}

/// Makes `logger` the current one until [`CallScope::exit`] gives it back.
pub(crate) struct CallScope {
    previous: Option<Option<Logger>>,
}

impl CallScope {
    pub(crate) fn enter(logger: Logger) -> CallScope {
        let previous = IN_CALL.try_with(|slot| slot.replace(Some(logger))).ok();
        CallScope { previous }
    }

    /// Restores the previous logger and returns the one entered.
    pub(crate) fn exit(mut self, entered: impl FnOnce() -> Logger) -> Logger {
        self.restore().unwrap_or_else(entered)
    }

    /// Hides the current call's logger until the guard is dropped: a
    /// request's future runs after its inner `call` returned, and must see
    /// its own task-local logger, not an enclosing call's.
    pub(crate) fn suspend() -> CallScope {
        let previous = IN_CALL.try_with(Cell::take).ok();
        CallScope { previous }
    }

    fn restore(&mut self) -> Option<Logger> {
        let previous = self.previous.take()?;
        IN_CALL
            .try_with(|slot| slot.replace(previous))
            .ok()
            .flatten()
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        // Ends a suspension, or a call that panicked before `exit`.
        drop(self.restore());
    }
}

/// Where a bridge sends what is logged outside any request.
#[cfg(any(feature = "tracing", feature = "log"))]
#[derive(Debug, Clone)]
pub(crate) enum BridgeRoot {
    /// The shared default pipeline, started on first use.
    Default,
    /// A logger given by the user.
    Logger(Logger),
    /// Nowhere: only what is logged inside requests is forwarded.
    None,
}

#[cfg(any(feature = "tracing", feature = "log"))]
impl BridgeRoot {
    /// The root logger; the default one starts the shared default pipeline.
    pub(crate) fn into_logger(self) -> Option<Logger> {
        match self {
            BridgeRoot::Default => Some(crate::lifecycle::default_pipeline().logger()),
            BridgeRoot::Logger(logger) => Some(logger),
            BridgeRoot::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fapilog_core::pipeline::Pipeline;

    fn logger(id: &str) -> (Logger, fapilog_core::pipeline::WriterGuard) {
        let (pipeline, guard) = Pipeline::builder().build().expect("pipeline");
        (pipeline.logger().with_correlation_id(id), guard)
    }

    fn current_id() -> Option<String> {
        with_current(|l| l.context()?.correlation_id().map(str::to_owned)).flatten()
    }

    #[test]
    fn a_call_scope_is_seen_inside_and_gives_its_logger_back() {
        let (outer, _g1) = logger("outer");
        let (inner, _g2) = logger("inner");
        assert_eq!(current_id(), None);
        let outer_scope = CallScope::enter(outer);
        let inner_scope = CallScope::enter(inner);
        assert_eq!(current_id().as_deref(), Some("inner"));
        let inner = inner_scope.exit(|| unreachable!("the logger is in place"));
        assert_eq!(inner.context().unwrap().correlation_id(), Some("inner"));
        assert_eq!(current_id().as_deref(), Some("outer"));
        drop(outer_scope.exit(|| unreachable!("the logger is in place")));
        assert_eq!(current_id(), None);
    }

    #[test]
    fn a_call_that_panics_leaves_no_logger_behind() {
        let (log, _guard) = logger("panicky");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _scope = CallScope::enter(log);
            assert_eq!(current_id().as_deref(), Some("panicky"));
            panic!("inner call failed");
        }));
        assert!(result.is_err());
        assert_eq!(current_id(), None);
        assert!(current_logger().is_none());
    }
}
