//! fapilog-axum: the tower layer that gives every request a correlation ID,
//! a request-scoped logger and one deterministic sampling decision.
#![forbid(unsafe_code)]

pub mod correlation;
pub mod sampling;
