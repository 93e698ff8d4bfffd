//! `Logger` as an Axum extractor (feature `axum`).
//!
//! The fapilog Axum layer puts the request's `Logger` in the request
//! extensions; a handler takes it as `Logger` (this extractor) or as
//! `Extension<Logger>`. Without the layer the extractor rejects the request
//! with a 500 that names the missing layer, like axum's own `Extension`.

use std::fmt;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::logger::Logger;

impl<S: Send + Sync> FromRequestParts<S> for Logger {
    type Rejection = MissingLogger;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Logger>()
            .cloned()
            .ok_or(MissingLogger)
    }
}

/// The rejection when a handler asks for a `Logger` but no fapilog layer put one in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingLogger;

impl fmt::Display for MissingLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no fapilog Logger in the request: add `FapilogLayer` to the router")
    }
}

impl std::error::Error for MissingLogger {}

impl IntoResponse for MissingLogger {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
