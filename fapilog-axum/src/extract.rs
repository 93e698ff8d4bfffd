//! Reaching the request's logger: extractors, and the task-local for code without one.
//!
//! Handlers take `Logger` (it implements `FromRequestParts`) or
//! `Extension<Logger>`. Code deeper in the call stack, with no request at
//! hand, calls [`current_logger`] while the request's future runs.
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

use fapilog_core::Logger;

tokio::task_local! {
    pub(crate) static CURRENT: Logger;
}

/// The logger of the request whose future is running on this task, if any.
pub fn current_logger() -> Option<Logger> {
    CURRENT.try_with(Logger::clone).ok()
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
