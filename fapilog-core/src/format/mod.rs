//! Formats turn envelopes into bytes: [`JsonFormat`], [`LogfmtFormat`], [`PrettyFormat`].
//!
//! Every encoder goes through one escaping layer, so no input can forge a
//! line or a terminal escape: CR, LF and every other C0 control, DEL, C1
//! controls, U+2028/U+2029 and bidi overrides are escaped in keys and values.
//! Strings longer than the configured limit (default
//! [`DEFAULT_MAX_STRING_BYTES`]) are cut at a character boundary and marked.
//!
//! # Example
//!
//! ```
//! use fapilog_core::format::{Format, JsonFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let mut event = RawEvent::new(Level::Info, "line one\nline two");
//! event.push_field("user_id", 42u64);
//! let mut out = Vec::new();
//! JsonFormat::new().encode(&Envelope::new(&event), &mut out);
//! let line = String::from_utf8(out).unwrap();
//! assert_eq!(line.matches('\n').count(), 1); // one line, however hostile the input
//! assert!(line.contains(r#""msg":"line one\nline two""#));
//! ```

use crate::envelope::Envelope;

mod escape;
mod json;
mod logfmt;
mod pretty;
#[cfg(test)]
mod test_support;
pub(crate) mod time;

pub(crate) use escape::cut_with_marker;
pub use json::JsonFormat;
pub(crate) use json::{MAX_NESTING, TOO_DEEP};
pub use logfmt::LogfmtFormat;
pub use pretty::{ColorChoice, PrettyFormat};

/// Default limit on one string (message or value) before it is truncated: 16 KiB.
pub const DEFAULT_MAX_STRING_BYTES: usize = 16 * 1024;

/// Encodes envelopes into bytes; implement it to plug in a format of your own.
///
/// `encode` appends exactly one record, ending in `\n`, to `out`. It runs on
/// the writer thread and must not fail: anything it cannot represent it
/// escapes or replaces.
pub trait Format: Send + 'static {
    /// Appends one encoded record to `out`.
    fn encode(&mut self, envelope: &Envelope<'_>, out: &mut Vec<u8>);
}

impl<F: Format + ?Sized> Format for Box<F> {
    fn encode(&mut self, envelope: &Envelope<'_>, out: &mut Vec<u8>) {
        (**self).encode(envelope, out)
    }
}
