//! [`MemorySink`]: keeps every event written to it, parsed, for tests to assert on.
//!
//! Give it to a pipeline with `JsonFormat` (as [`LogCapture`](crate::LogCapture)
//! does). The writer hands it whole batches of JSON lines; it parses each line
//! into a [`CapturedEvent`] on the writer's thread and keeps it. Clones share
//! what was captured, so keep one clone to query while the pipeline owns another.
//!
//! The sink only holds what has *reached* it. Flush the pipeline first
//! (`pipeline.flush()`, or [`LogCapture::flush`](crate::LogCapture::flush),
//! which returns the sink): every event submitted before the flush is then in it.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::pipeline::Pipeline;
//! use fapilog_core::{info, warn, Level};
//! use fapilog_testing::MemorySink;
//!
//! let memory = MemorySink::new();
//! let (pipeline, _guard) = Pipeline::builder().sink(memory.clone(), JsonFormat::new()).build()?;
//! let log = pipeline.logger().with_correlation_id("req-1");
//! info!(log, "order created", order_id = 42u64);
//! warn!(log, "stock low", sku = "A-7");
//! assert!(pipeline.flush()); // every event logged before this line has reached `memory`
//!
//! assert_eq!(memory.count(), 2);
//! assert_eq!(memory.messages(), ["order created", "stock low"]);
//! assert_eq!(memory.by_level(Level::Warn)[0].field("sku"), Some(&serde_json::json!("A-7")));
//! assert_eq!(memory.by_correlation_id("req-1").len(), 2);
//! let created = memory.find(|e| e.field("order_id").is_some()).unwrap();
//! assert_eq!(created.seq, Some(1));
//! memory.clear();
//! assert!(memory.is_empty());
//! # Ok(()) }
//! ```

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use fapilog_core::sink::Sink;
use fapilog_core::Level;

use crate::event::CapturedEvent;

#[derive(Debug, Default)]
struct Store {
    events: Vec<CapturedEvent>,
    loss_records: Vec<CapturedEvent>,
    unparsed: Vec<String>,
    writes: u64,
}

/// An in-memory [`Sink`] whose events tests read back as [`CapturedEvent`]s.
///
/// Query results are copies, in the order the events were written (which is
/// `seq` order within one pipeline). See the [module docs](crate::memory_sink)
/// for a full example.
///
/// ```
/// use fapilog_core::sink::Sink;
/// use fapilog_testing::MemorySink;
///
/// let memory = MemorySink::new();
/// let mut sink = memory.clone(); // the pipeline's clone
/// sink.write(b"{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"level\":\"INFO\",\"msg\":\"hi\",\"seq\":1}\n")?;
/// assert_eq!(memory.messages(), ["hi"]);
/// assert_eq!(sink.name(), "memory");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    store: Arc<Mutex<Store>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while the lock was held cannot leave the store half-updated
        // (each update is one push), so a poisoned lock is still good.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every logged event, in the order written (fapilog's loss records are in
    /// [`loss_records`](Self::loss_records) instead).
    pub fn events(&self) -> Vec<CapturedEvent> {
        self.store().events.clone()
    }

    /// The events for which `predicate` holds.
    pub fn filter(&self, mut predicate: impl FnMut(&CapturedEvent) -> bool) -> Vec<CapturedEvent> {
        self.store()
            .events
            .iter()
            .filter(|e| predicate(e))
            .cloned()
            .collect()
    }

    /// The first event for which `predicate` holds.
    pub fn find(&self, mut predicate: impl FnMut(&CapturedEvent) -> bool) -> Option<CapturedEvent> {
        self.store().events.iter().find(|e| predicate(e)).cloned()
    }

    /// The events logged in the request with correlation ID `id`.
    pub fn by_correlation_id(&self, id: &str) -> Vec<CapturedEvent> {
        self.filter(|e| e.correlation_id.as_deref() == Some(id))
    }

    /// The events at exactly `level`.
    pub fn by_level(&self, level: Level) -> Vec<CapturedEvent> {
        self.filter(|e| e.level == level)
    }

    /// The events whose message is exactly `message`.
    pub fn by_message(&self, message: &str) -> Vec<CapturedEvent> {
        self.filter(|e| e.message == message)
    }

    /// The messages of every event, in order.
    pub fn messages(&self) -> Vec<String> {
        self.store()
            .events
            .iter()
            .map(|e| e.message.clone())
            .collect()
    }

    /// How many events the sink holds.
    pub fn count(&self) -> usize {
        self.store().events.len()
    }

    /// Whether the sink holds no event.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// fapilog's in-band loss records (`"events dropped"`, target `fapilog`).
    pub fn loss_records(&self) -> Vec<CapturedEvent> {
        self.store().loss_records.clone()
    }

    /// Lines that were not fapilog JSON events (for example from a pipeline
    /// that gave this sink another format).
    pub fn unparsed_lines(&self) -> Vec<String> {
        self.store().unparsed.clone()
    }

    /// How many batches were written to the sink.
    pub fn writes(&self) -> u64 {
        self.store().writes
    }

    /// Forgets everything captured so far.
    pub fn clear(&self) {
        let mut store = self.store();
        store.events.clear();
        store.loss_records.clear();
        store.unparsed.clear();
    }
}

impl Sink for MemorySink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        // Parse before taking the lock, so queries never wait for parsing.
        let text = String::from_utf8_lossy(batch);
        let parsed: Vec<Result<CapturedEvent, String>> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| CapturedEvent::parse(l).map_err(|_| l.to_owned()))
            .collect();
        let mut store = self.store();
        store.writes += 1;
        for line in parsed {
            match line {
                Ok(event) if event.is_loss_record() => store.loss_records.push(event),
                Ok(event) => store.events.push(event),
                Err(raw) => store.unparsed.push(raw),
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_events_loss_records_and_unparsed_lines() {
        let memory = MemorySink::new();
        let mut sink = memory.clone();
        let batch = concat!(
            r#"{"ts":"2026-01-01T00:00:00.000000Z","level":"WARN","msg":"events dropped","target":"fapilog","dropped":3,"reason":"overflow","first_seq":1,"last_seq":3}"#,
            "\n",
            r#"{"ts":"2026-01-01T00:00:00.000000Z","level":"INFO","msg":"kept","seq":4}"#,
            "\n",
            r#"{"ts":"2026-01-01T00:00:00.000000Z","level":"WARN","msg":"events throttled","target":"fapilog","suppressed":2}"#,
            "\n",
            "level=INFO msg=logfmt\n",
        );
        sink.write(batch.as_bytes()).unwrap();
        assert_eq!(memory.messages(), ["kept", "events throttled"]);
        assert_eq!(
            memory.loss_records()[0].field("dropped"),
            Some(&serde_json::json!(3))
        );
        assert_eq!(memory.unparsed_lines(), ["level=INFO msg=logfmt"]);
        assert_eq!(memory.writes(), 1);
        memory.clear();
        assert!(memory.is_empty() && memory.loss_records().is_empty());
    }
}
