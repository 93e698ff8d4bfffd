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
