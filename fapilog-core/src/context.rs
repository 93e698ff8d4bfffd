//! The context bound to a logger: fields and the correlation ID of the request.
//!
//! A context is immutable and shared by `Arc`; every event keeps the snapshot
//! that was bound when it was logged.
//!
//! # Example
//!
//! ```
//! use fapilog_core::{Context, Field};
//!
//! let ctx = Context::new()
//!     .with_field(Field::new("service", "billing"))
//!     .with_correlation_id("req-1");
//! assert_eq!(ctx.correlation_id(), Some("req-1"));
//! assert_eq!(ctx.fields()[0].key(), "service");
//! ```

use std::sync::Arc;

use crate::value::Field;

/// Fields bound to a logger, plus the correlation ID of the request it serves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    fields: Vec<Field>,
    correlation_id: Option<Arc<str>>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// This context plus `field`; a field with the same key is replaced.
    #[must_use]
    pub fn with_field(mut self, field: Field) -> Self {
        match self.fields.iter_mut().find(|f| f.key == field.key) {
            Some(existing) => *existing = field,
            None => self.fields.push(field),
        }
        self
    }

    /// This context with `id` as its correlation ID.
    #[must_use]
    pub fn with_correlation_id(mut self, id: impl Into<Arc<str>>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// This context's correlation ID with `fields` in place of its fields.
    pub(crate) fn with_fields(&self, fields: Vec<Field>) -> Self {
        Context {
            fields,
            correlation_id: self.correlation_id.clone(),
        }
    }

    /// The correlation ID, shared.
    pub(crate) fn correlation_arc(&self) -> Option<&Arc<str>> {
        self.correlation_id.as_ref()
    }

    /// The bound fields, in the order they were bound.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The request's correlation ID, when bound.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebinding_a_key_replaces_it() {
        let ctx = Context::new()
            .with_field(Field::new("a", 1))
            .with_field(Field::new("b", 2))
            .with_field(Field::new("a", 3));
        let keys: Vec<_> = ctx.fields().iter().map(Field::key).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(ctx.fields()[0].value().as_i64(), Some(3));
    }
}
