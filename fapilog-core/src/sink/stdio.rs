//! The standard streams as sinks: [`StdoutSink`] and [`StderrSink`].
//!
//! Each batch is written with the stream locked once, so lines from one
//! batch are never interleaved with other output. A stream that fails
//! part-way through a batch (a reader gone from the pipe) returns a
//! [`PartialWrite`] saying how many bytes got out: the lines before the
//! failure count as written, not failed.
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

use super::{write_all_or_count, PartialWrite, Sink};

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
        write_counted(&mut io::stdout().lock(), batch)
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
        write_counted(&mut io::stderr().lock(), batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().lock().flush()
    }

    fn name(&self) -> String {
        "stderr".to_owned()
    }
}

/// `write_all`, except that an error after some bytes got out says how
/// many, as a [`PartialWrite`].
fn write_counted(out: &mut impl Write, batch: &[u8]) -> io::Result<()> {
    write_all_or_count(out, batch).map_err(|(done, err)| match done {
        0 => err,
        _ => PartialWrite::new(done, err).into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, a few at a time, then fails with a broken pipe.
    struct Closing {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room).min(3);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stream_failing_part_way_says_how_much_got_out() {
        let mut out = Closing {
            room: 7,
            got: Vec::new(),
        };
        let err = write_counted(&mut out, b"one\ntwo\nthree\n").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(PartialWrite::accepted_by(&err), 7);
        assert_eq!(out.got, b"one\ntwo");
        let mut closed = Closing {
            room: 0,
            got: Vec::new(),
        };
        let err = write_counted(&mut closed, b"x\n").unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 0);
        let mut open = Closing {
            room: 100,
            got: Vec::new(),
        };
        write_counted(&mut open, b"all of it\n").unwrap();
        assert_eq!(open.got, b"all of it\n");
    }

    /// Set in the child process [`child_streams`] starts.
    const CHILD: &str = "FAPILOG_STDIO_SINK_CHILD";

    /// In the parent, runs test `name` again in a child process with its
    /// standard streams piped, asserts it passed there and returns what it
    /// wrote to (stdout, stderr); in that child, `None`. The streams are the
    /// process's own, so only a child's can be read back.
    fn child_streams(name: &str) -> Option<(String, String)> {
        if std::env::var_os(CHILD).is_some() {
            return None;
        }
        let test_binary = std::process::Command::new(std::env::current_exe().unwrap());
        Some(crate::sink::test_child::run(test_binary, name, CHILD))
    }

    #[test]
    fn stdout_writes_and_flushes() {
        let line = "a line for the StdoutSink\n";
        let Some((stdout, stderr)) = child_streams("sink::stdio::tests::stdout_writes_and_flushes")
        else {
            let mut sink = StdoutSink::new();
            sink.write(line.as_bytes()).unwrap();
            sink.write(b"").unwrap();
            sink.flush().unwrap();
            return;
        };
        assert!(stdout.contains(line), "{stdout}");
        assert!(!stderr.contains(line), "{stderr}");
        assert_eq!(StdoutSink::new().name(), "stdout");
    }

    #[test]
    fn stderr_writes_and_flushes() {
        let line = "a line for the StderrSink\n";
        let Some((stdout, stderr)) = child_streams("sink::stdio::tests::stderr_writes_and_flushes")
        else {
            let mut sink = StderrSink::default();
            sink.write(line.as_bytes()).unwrap();
            sink.flush().unwrap();
            return;
        };
        assert!(stderr.contains(line), "{stderr}");
        assert!(!stdout.contains(line), "{stdout}");
        assert_eq!(StderrSink::default().name(), "stderr");
    }

    #[test]
    fn boxed_sink_forwards() {
        let mut sink: Box<dyn Sink> = Box::new(StdoutSink::new());
        sink.write(b"").unwrap();
        sink.flush().unwrap();
        assert_eq!(sink.name(), "stdout");
    }
}
