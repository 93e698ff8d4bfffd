//! The standard streams as sinks: [`StdoutSink`] and [`StderrSink`].
//!
//! Each batch is written with the stream locked once and a single `write_all`,
//! so lines from one batch are never interleaved with other output.
//!
//! # Example
//!
//! ```
//! use fapilog_core::sink::{Sink, StdoutSink};
//!
//! let mut sink = StdoutSink::new();
//! sink.write(b"{\"msg\":\"hello\"}\n")?;
//! sink.flush()?;
//! assert_eq!(sink.name(), "stdout");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Write};

use super::Sink;

/// Writes each batch to the process's standard output.
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct StdoutSink;

impl StdoutSink {
    /// A sink for standard output.
    pub fn new() -> Self {
        StdoutSink
    }
}

impl Sink for StdoutSink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }

    fn name(&self) -> String {
        "stdout".to_owned()
    }
}

/// Writes each batch to the process's standard error.
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct StderrSink;

impl StderrSink {
    /// A sink for standard error.
    pub fn new() -> Self {
        StderrSink
    }
}

impl Sink for StderrSink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        io::stderr().lock().write_all(batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().lock().flush()
    }

    fn name(&self) -> String {
        "stderr".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_writes_and_flushes() {
        let mut sink = StdoutSink::new();
        sink.write(b"stdout sink smoke test\n").unwrap();
        sink.write(b"").unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.name(), "stdout");
    }

    #[test]
    fn stderr_writes_and_flushes() {
        let mut sink = StderrSink::default();
        sink.write(b"stderr sink smoke test\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.name(), "stderr");
    }

    #[test]
    fn boxed_sink_forwards() {
        let mut sink: Box<dyn Sink> = Box::new(StdoutSink::new());
        sink.write(b"").unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.name(), "stdout");
    }
}
