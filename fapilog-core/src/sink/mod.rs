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

use std::error::Error;
use std::fmt;
use std::io;

mod file;
mod memory;
mod null;
mod rotation;
mod stdio;
#[cfg(test)]
mod test_child;

pub(crate) use file::rotation_number;
pub use file::{
    FileSink, FileSinkBuilder, DEFAULT_CREATE_DIRS, DEFAULT_FSYNC_ON_FLUSH, DEFAULT_MAX_BYTES,
    DEFAULT_RETAIN, DEFAULT_ROTATION, MAX_RETAIN,
};
pub use memory::MemorySink;
pub use null::NullSink;
pub use rotation::Rotation;
pub use stdio::{StderrSink, StdoutSink};

/// A destination for encoded log lines.
///
/// Sinks run on the pipeline's writer thread. What a sink logs there to its
/// own pipeline (itself, or through a library that logs via the `tracing` or
/// `log` bridge) is refused and counted as `dropped.reentrant`: written, it
/// would be logged again with every batch. A flush of its own pipeline from
/// there returns `false` at once instead of waiting for itself.
pub trait Sink: Send + 'static {
    /// Writes one batch: one or more whole lines, each ending in `\n`.
    ///
    /// On an error every event of the batch counts as failed, unless the error
    /// wraps a [`PartialWrite`] saying how many leading bytes (whole lines) the
    /// sink did accept.
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

/// The error of a [`Sink::write`] that accepted the first `accepted` bytes
/// of the batch, whole lines only, before it failed.
///
/// Return it wrapped in an [`io::Error`] (`PartialWrite::new(n, e).into()`);
/// the writer then counts the lines in those bytes as written and only the
/// lines after them as failed. A line cut by `accepted` counts as failed, so
/// a sink must not leave a torn line behind.
///
/// ```
/// use fapilog_core::sink::PartialWrite;
/// use std::io;
///
/// let full = io::Error::from(io::ErrorKind::StorageFull);
/// let err: io::Error = PartialWrite::new(12, full).into();
/// assert_eq!(err.kind(), io::ErrorKind::StorageFull);
/// assert_eq!(PartialWrite::accepted_by(&err), 12);
/// assert_eq!(PartialWrite::accepted_by(&io::Error::other("plain")), 0);
/// ```
#[derive(Debug)]
pub struct PartialWrite {
    accepted: usize,
    source: io::Error,
}

impl PartialWrite {
    /// `accepted` bytes were taken before `source` stopped the write.
    pub fn new(accepted: usize, source: io::Error) -> Self {
        PartialWrite { accepted, source }
    }

    /// How many leading bytes of the batch the sink accepted.
    pub fn accepted(&self) -> usize {
        self.accepted
    }

    /// The bytes `err` says were accepted: a wrapped `PartialWrite`'s count, else 0.
    pub fn accepted_by(err: &io::Error) -> usize {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<PartialWrite>())
            .map_or(0, PartialWrite::accepted)
    }
}

impl fmt::Display for PartialWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (after {} bytes)", self.source, self.accepted)
    }
}

impl Error for PartialWrite {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl From<PartialWrite> for io::Error {
    fn from(partial: PartialWrite) -> io::Error {
        io::Error::new(partial.source.kind(), partial)
    }
}

/// `write_all`; on an error, also how many bytes got out before it.
pub(crate) fn write_all_or_count(
    out: &mut impl io::Write,
    bytes: &[u8],
) -> Result<(), (usize, io::Error)> {
    let mut done = 0;
    while done < bytes.len() {
        match out.write(&bytes[done..]) {
            Ok(0) => return Err((done, io::ErrorKind::WriteZero.into())),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((done, e)),
        }
    }
    Ok(())
}
