//! [`MemorySink`]: keeps every line in memory, for tests and examples.
//!
//! Clones share the same buffer, so keep one clone and hand the other to the
//! pipeline; read it after a flush or a shutdown. It keeps encoded text; for
//! tests that assert on typed events (level, fields, correlation ID), use
//! `fapilog_testing::MemorySink`, which parses each line.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::sink::MemorySink;
//! use fapilog_core::{info, Pipeline};
//!
//! let sink = MemorySink::new();
//! let (pipeline, _guard) = Pipeline::builder().sink(sink.clone(), JsonFormat::new()).build()?;
//! info!(pipeline.logger(), "hello", n = 1);
//! pipeline.flush();
//! assert!(sink.lines()[0].ends_with(r#""n":1}"#));
//! # Ok(()) }
//! ```

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use super::Sink;

/// Appends every batch to a shared in-memory buffer.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// Everything written so far (lossy UTF-8).
    pub fn text(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every line written so far, without its `\n`.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Sink for MemorySink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(batch);
        Ok(())
    }

    fn name(&self) -> String {
        "memory".to_owned()
    }
}
