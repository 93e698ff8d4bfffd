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

use crate::value::{Field, InlineStr};

/// Fields bound to a logger, plus the correlation ID of the request it serves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    fields: Vec<Field>,
    correlation_id: Option<CorrelationText>,
}

/// The longest correlation ID stored inline; UUIDs (36) and W3C trace IDs
/// (32) fit, longer ones are shared on the heap.
pub const INLINE_ID_LEN: usize = 46;

/// A correlation ID's text: copied inline when short, so a per-request
/// context is one allocation (and none when the context is recycled).
///
/// ```
/// use fapilog_core::CorrelationText;
///
/// let id = CorrelationText::new("0190f1e2-7a3b-7c4d-8e5f-0123456789ab");
/// assert_eq!(id.as_str(), "0190f1e2-7a3b-7c4d-8e5f-0123456789ab");
/// assert_eq!(id.as_bytes(), id.as_str().as_bytes());
/// assert_eq!(id, id.clone());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CorrelationText(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline(InlineStr<INLINE_ID_LEN>),
    Shared(Arc<str>),
}

impl CorrelationText {
    /// Copies `id`: inline up to [`INLINE_ID_LEN`] bytes, shared beyond.
    pub fn new(id: &str) -> Self {
        CorrelationText(match InlineStr::new(id) {
            Some(inline) => Repr::Inline(inline),
            None => Repr::Shared(Arc::from(id)),
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(inline) => inline.as_str(),
            Repr::Shared(s) => s,
        }
    }

    /// The text's bytes, without the UTF-8 check [`as_str`](Self::as_str) makes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.as_bytes(),
            Repr::Shared(s) => s.as_bytes(),
        }
    }

    /// The text as a shared string (copied unless it was long enough to be shared already).
    pub fn into_arc(self) -> Arc<str> {
        match self.0 {
            Repr::Shared(s) => s,
            Repr::Inline(_) => Arc::from(self.as_str()),
        }
    }
}

impl std::fmt::Debug for CorrelationText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
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
    pub fn with_correlation_id(mut self, id: impl AsRef<str>) -> Self {
        self.correlation_id = Some(CorrelationText::new(id.as_ref()));
        self
    }

    /// This context with `id`, already copied, as its correlation ID.
    #[must_use]
    pub fn with_correlation_text(mut self, id: CorrelationText) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Empties this context and binds `id`, keeping its allocations.
    pub(crate) fn reset(&mut self, id: &CorrelationText) {
        self.fields.clear();
        self.correlation_id = Some(id.clone());
    }

    /// This context's correlation ID with `fields` in place of its fields.
    pub(crate) fn with_fields(&self, fields: Vec<Field>) -> Self {
        Context {
            fields,
            correlation_id: self.correlation_id.clone(),
        }
    }

    /// The correlation ID as stored: its bytes are readable without the
    /// UTF-8 check [`correlation_id`](Self::correlation_id) makes.
    pub fn correlation_text(&self) -> Option<&CorrelationText> {
        self.correlation_id.as_ref()
    }

    /// The bound fields, in the order they were bound.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The request's correlation ID, when bound.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_ref().map(CorrelationText::as_str)
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

    #[test]
    fn correlation_ids_of_any_length_read_back() {
        for len in [0, 1, 36, INLINE_ID_LEN, INLINE_ID_LEN + 1, 128] {
            let id = "a".repeat(len);
            let ctx = Context::new().with_correlation_id(&id);
            assert_eq!(ctx.correlation_id(), Some(id.as_str()));
            assert_eq!(ctx.clone(), ctx);
        }
        let inline = Context::new().with_correlation_id("req-1");
        assert_ne!(inline, Context::new().with_correlation_id("req-2"));
    }
}
