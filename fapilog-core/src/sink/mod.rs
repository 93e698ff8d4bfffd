//! Sinks receive encoded batches: [`StdoutSink`], [`StderrSink`], [`FileSink`], [`NullSink`], [`MemorySink`].
//!
//! The writer hands a sink one buffer per batch, holding whole lines only,
//! so a sink makes one write per batch. Implement [`Sink`] to send logs
//! anywhere else. A sink that errors or panics is isolated: the writer counts
//! the fault, reports it on stderr at most once a second, and keeps serving
//! the other sinks.
//!
//! # Example
//!
//! ```
//! use fapilog_core::sink::Sink;
//! use std::io;
//!
//! /// Counts the lines it is given.
//! #[derive(Debug, Default)]
//! struct LineCounter(usize);
//!
//! impl Sink for LineCounter {
//!     fn write(&mut self, batch: &[u8]) -> io::Result<()> {
//!         self.0 += batch.iter().filter(|&&b| b == b'\n').count();
//!         Ok(())
//!     }
//! }
//!
//! let mut sink = LineCounter::default();
//! sink.write(b"{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n").unwrap();
//! assert_eq!(sink.0, 2);
//! ```

use std::io;

mod file;
mod memory;
mod null;
mod rotation;
mod stdio;

pub use file::{
    FileSink, FileSinkBuilder, DEFAULT_CREATE_DIRS, DEFAULT_FSYNC_ON_FLUSH, DEFAULT_MAX_BYTES,
    DEFAULT_RETAIN, DEFAULT_ROTATION, MAX_RETAIN,
};
pub use memory::MemorySink;
pub use null::NullSink;
pub use rotation::Rotation;
pub use stdio::{StderrSink, StdoutSink};

/// A destination for encoded log lines.
pub trait Sink: Send + 'static {
    /// Writes one batch: one or more whole lines, each ending in `\n`.
    fn write(&mut self, batch: &[u8]) -> io::Result<()>;

    /// Makes everything written so far durable or visible; called at flush and shutdown.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// A short name for metrics and fault reports (`"stdout"`, `"file:/var/log/app.log"`).
    fn name(&self) -> String {
        "custom".to_owned()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        (**self).write(batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }

    fn name(&self) -> String {
        (**self).name()
    }
}
