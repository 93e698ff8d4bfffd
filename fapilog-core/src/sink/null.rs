//! [`NullSink`]: accepts every batch and discards it.
//!
//! Useful in benchmarks, to measure the pipeline without I/O, and in tests.
//!
//! # Example
//!
//! ```
//! use fapilog_core::sink::{NullSink, Sink};
//!
//! let mut sink = NullSink::new();
//! sink.write(b"{\"msg\":\"gone\"}\n")?;
//! sink.flush()?;
//! assert_eq!(sink.name(), "null");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;

use super::Sink;

/// Discards every batch; never fails and counts nothing.
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct NullSink;

impl NullSink {
    /// A sink that discards everything.
    pub fn new() -> Self {
        NullSink
    }
}

impl Sink for NullSink {
    fn write(&mut self, _batch: &[u8]) -> io::Result<()> {
        Ok(())
    }

    fn name(&self) -> String {
        "null".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discards_everything() {
        let mut sink = NullSink::new();
        for _ in 0..1000 {
            sink.write(b"a line\n").unwrap();
        }
        sink.write(b"").unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.name(), "null");
    }
}
