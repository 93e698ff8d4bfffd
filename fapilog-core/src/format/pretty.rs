//! A one-line, human-readable format for terminals, with optional colour for the level.
//!
//! The exact output is described on [`PrettyFormat`].
//!
//! # Example
//!
//! ```
//! use fapilog_core::format::{ColorChoice, Format, PrettyFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let mut event = RawEvent::new(Level::Info, "paid");
//! event.set_target("billing::pay");
//! event.push_field("note", "two words");
//! let mut out = Vec::new();
//! PrettyFormat::new()
//!     .color(ColorChoice::Never)
//!     .encode(&Envelope::new(&event), &mut out);
//! let line = String::from_utf8(out).unwrap();
//! assert!(line.ends_with("Z  INFO billing::pay: paid note=\"two words\"\n"));
//! ```

use std::io::IsTerminal;

use super::escape::{
    is_pretty_bare, truncate, write_json_body, write_text, write_truncation_marker,
};
use super::json::{non_finite, write_string_array, write_value};
use super::time::TimestampCache;
use super::{Format, DEFAULT_MAX_STRING_BYTES};
use crate::envelope::Envelope;
use crate::level::Level;
use crate::value::Value;

/// Whether [`PrettyFormat`] colours the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorChoice {
    /// Colour when stdout (or the stream given to
    /// [`PrettyFormat::color_for`]) is a terminal and `NO_COLOR` is unset or
    /// empty; decided once, when set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether this choice means colour on `stream`, here and now.
    fn resolve(self, stream: &impl IsTerminal) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stream.is_terminal()
            }
        }
    }
}

/// Encodes each envelope as one line for humans.
///
/// Layout: timestamp, level (right-aligned to five columns, coloured when
/// colour is on), `target:` when known, the message, the user fields as
/// `key=value`, `correlation_id`, `promoted=true` when a failing request was
/// kept, and the error inline as `error=… error.type=… error.chain=[…]`.
/// A record is always exactly one line.
///
/// ```text
/// 2026-11-22T13:05:00.123456Z  INFO billing::pay: paid amount=12.5 note="two words" correlation_id=c-1
/// ```
///
/// Nothing from user data reaches the terminal raw: the message and target
/// are written with control, C1, line-separator and bidi characters escaped
/// (`\n`, `\u001b`, …); a key or string value that is empty or holds
/// whitespace, `"`, `\`, `=` or such a character is quoted and escaped like a
/// JSON string; lists and maps are compact JSON. Long strings are cut like
/// in the other formats. `seq` and the sampling tags other than `promoted`
/// are left out: they are for machines, and the JSON format has them.
///
/// ```
/// use fapilog_core::format::{ColorChoice, PrettyFormat};
/// let format = PrettyFormat::new().color(ColorChoice::Always);
/// assert!(format.is_colored());
/// ```
#[derive(Debug, Clone)]
pub struct PrettyFormat {
    color: bool,
    max_string_bytes: usize,
    timestamps: TimestampCache,
}

impl Default for PrettyFormat {
    fn default() -> Self {
        PrettyFormat::new()
    }
}

impl PrettyFormat {
    /// A pretty format with [`ColorChoice::Auto`] and the default string limit
    /// ([`DEFAULT_MAX_STRING_BYTES`]).
    pub fn new() -> Self {
        PrettyFormat {
            color: ColorChoice::Auto.resolve(&std::io::stdout()),
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            timestamps: TimestampCache::new(),
        }
    }

    /// Whether to colour the level (default [`ColorChoice::Auto`]); `Auto` is
    /// decided here, once, by whether stdout is a terminal. For a sink that
    /// writes elsewhere, use [`color_for`](Self::color_for).
    #[must_use]
    pub fn color(self, choice: ColorChoice) -> Self {
        self.color_for(choice, &std::io::stdout())
    }

    /// Like [`color`](Self::color), with `Auto` decided by whether `stream`,
    /// the one the sink writes to, is a terminal.
    ///
    /// ```
    /// use fapilog_core::format::{ColorChoice, PrettyFormat};
    /// let for_stderr = PrettyFormat::new().color_for(ColorChoice::Auto, &std::io::stderr());
    /// # let _ = for_stderr;
    /// ```
    #[must_use]
    pub fn color_for(mut self, choice: ColorChoice, stream: &impl IsTerminal) -> Self {
        self.color = choice.resolve(stream);
        self
    }

    /// Cuts the message and every string value longer than `max` bytes
    /// (default [`DEFAULT_MAX_STRING_BYTES`]); keys are never cut.
    #[must_use]
    pub const fn max_string_bytes(mut self, max: usize) -> Self {
        self.max_string_bytes = max;
        self
    }

    /// Whether the level is coloured.
    pub const fn is_colored(&self) -> bool {
        self.color
    }
}

/// The level right-aligned to five columns, and its ANSI colour.
const fn level_style(level: Level) -> (&'static [u8], &'static [u8]) {
    match level {
        Level::Trace => (b"TRACE", b"\x1b[35m"),
        Level::Debug => (b"DEBUG", b"\x1b[34m"),
        Level::Info => (b" INFO", b"\x1b[32m"),
        Level::Warn => (b" WARN", b"\x1b[33m"),
        Level::Error => (b"ERROR", b"\x1b[31m"),
        Level::Fatal => (b"FATAL", b"\x1b[1;31m"),
    }
}

/// Writes text (message, target) with dangerous characters escaped, cut to `max` bytes.
fn write_text_cut(out: &mut Vec<u8>, s: &str, max: usize) {
    let (kept, cut) = truncate(s, max);
    write_text(out, kept);
    if cut > 0 {
        write_truncation_marker(out, cut);
    }
}

/// Writes a string value: bare when readable and safe, quoted and escaped otherwise.
fn write_str_value(out: &mut Vec<u8>, s: &str, max: usize) {
    let (kept, cut) = truncate(s, max);
    if cut == 0 && is_pretty_bare(kept) {
        out.extend_from_slice(kept.as_bytes());
        return;
    }
    out.push(b'"');
    write_json_body(out, kept);
    if cut > 0 {
        write_truncation_marker(out, cut);
    }
    out.push(b'"');
}

/// Writes ` prefix+key=`, quoting the key when it is not bare-safe.
fn write_key(out: &mut Vec<u8>, prefix: &str, key: &str) {
    out.push(b' ');
    if is_pretty_bare(key) {
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(key.as_bytes());
    } else {
        out.push(b'"');
        out.extend_from_slice(prefix.as_bytes());
        write_json_body(out, key);
        out.push(b'"');
    }
    out.push(b'=');
}

impl Format for PrettyFormat {
    fn encode(&mut self, envelope: &Envelope<'_>, out: &mut Vec<u8>) {
        let max = self.max_string_bytes;
        self.timestamps.write(out, envelope.timestamp());
        out.push(b' ');
        let (name, colour) = level_style(envelope.level());
        if self.color {
            out.extend_from_slice(colour);
            out.extend_from_slice(name);
            out.extend_from_slice(b"\x1b[0m");
        } else {
            out.extend_from_slice(name);
        }
        out.push(b' ');
        if let Some(target) = envelope.target() {
            write_text_cut(out, target, max);
            out.extend_from_slice(b": ");
        }
        write_text_cut(out, envelope.message(), max);

        for field in envelope.fields() {
            let key = field.key();
            let prefix = if super::logfmt::needs_prefix(key) {
                "fields."
            } else {
                ""
            };
            write_key(out, prefix, key);
            match field.value() {
                Value::F64(v) if !v.is_finite() => {
                    out.extend_from_slice(non_finite(*v).as_bytes());
                }
                s @ (Value::Static(_) | Value::Inline(_) | Value::Owned(_)) => {
                    write_str_value(out, s.as_str().unwrap_or_default(), max);
                }
                other => write_value(out, other, max),
            }
        }
        if let Some(id) = envelope.correlation_id() {
            out.extend_from_slice(b" correlation_id=");
            write_str_value(out, id, max);
        }
        if envelope.sampling().is_some_and(|tag| tag.promoted) {
            out.extend_from_slice(b" promoted=true");
        }
        if let Some(error) = envelope.error() {
            out.extend_from_slice(b" error=");
            write_str_value(out, error.message(), max);
            out.extend_from_slice(b" error.type=");
            write_str_value(out, error.type_name(), max);
            if !error.chain().is_empty() {
                out.extend_from_slice(b" error.chain=");
                write_string_array(out, error.chain(), max);
            }
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CapturedError, RawEvent};
    use crate::format::test_support::{billing_event, encode_line};

    #[test]
    fn layout() {
        let mut event = billing_event(Level::Warn, "paid\nfake line");
        event.push_field("amount", 12.5);
        event.push_field("note", "two words");
        event.push_field("tags", vec!["a", "b"]);
        event.push_field("msg", "x");
        event.push_field("bad", f64::NAN);
        event.set_error(CapturedError::from_parts(
            "io::Error",
            "disk full",
            vec!["inner".into()],
        ));
        let mut format = PrettyFormat::new().color(ColorChoice::Never);
        assert_eq!(
            encode_line(&mut format, &event),
            concat!(
                r#"2026-11-22T13:05:00.123456Z  WARN billing::pay: paid\nfake line amount=12.5 "#,
                r#"note="two words" tags=["a","b"] fields.msg=x bad=NaN correlation_id=c-1 promoted=true "#,
                r#"error="disk full" error.type=io::Error error.chain=["inner"]"#,
                "\n"
            )
        );
    }

    #[test]
    fn colour_wraps_only_the_level() {
        let event = RawEvent::new(Level::Error, "boom");
        let line = encode_line(&mut PrettyFormat::new().color(ColorChoice::Always), &event);
        assert!(line.contains(" \x1b[31mERROR\x1b[0m boom\n"), "{line:?}");
        let plain = encode_line(&mut PrettyFormat::new().color(ColorChoice::Never), &event);
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn escape_sequences_in_user_data_are_neutralised() {
        let mut event = RawEvent::new(Level::Info, "\x1b[2Jgone");
        event.push_field("k\x1b", "\u{202e}v");
        let line = encode_line(&mut PrettyFormat::new().color(ColorChoice::Never), &event);
        assert!(line.ends_with(concat!(r#" \u001b[2Jgone "k\u001b"="\u202ev""#, "\n")));
    }

    #[test]
    fn truncation() {
        let mut event = RawEvent::new(Level::Info, "abcdef");
        event.push_field("v", "ghijkl");
        let line = encode_line(
            &mut PrettyFormat::new()
                .color(ColorChoice::Never)
                .max_string_bytes(2),
            &event,
        );
        assert!(line.ends_with(" ab…[truncated 4 bytes] v=\"gh…[truncated 4 bytes]\"\n"));
    }
}
