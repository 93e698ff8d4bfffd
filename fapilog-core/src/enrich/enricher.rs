//! The [`Enricher`] trait: per-event changes on the writer thread.

use crate::event::RawEvent;

/// Adds to or changes each event on the writer thread, before any processor.
///
/// Implemented for closures `FnMut(&mut RawEvent)`:
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::format::JsonFormat;
/// use fapilog_core::sink::MemorySink;
/// use fapilog_core::{Pipeline, RawEvent};
///
/// let sink = MemorySink::new();
/// let (pipeline, guard) = Pipeline::builder()
///     .sink(sink.clone(), JsonFormat::new())
///     .enricher(|event: &mut RawEvent| event.push_field("region", "eu-west-1"))
///     .build()?;
/// pipeline.logger().info("hello");
/// guard.shutdown(std::time::Duration::from_secs(5));
/// assert!(sink.lines()[0].ends_with(r#""region":"eu-west-1"}"#));
/// # Ok(()) }
/// ```
pub trait Enricher: Send + 'static {
    /// Changes `event` in place. A panic is contained: the event, perhaps
    /// half-changed, is not written and counts as failed; the writer carries on.
    fn enrich(&mut self, event: &mut RawEvent);
}

impl<F: FnMut(&mut RawEvent) + Send + 'static> Enricher for F {
    fn enrich(&mut self, event: &mut RawEvent) {
        self(event)
    }
}
