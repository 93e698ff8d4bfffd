//! logfmt: one line of space-separated `key=value` pairs per event.
//!
//! The exact output is described on [`LogfmtFormat`].
//!
//! # Example
//!
//! ```
//! use fapilog_core::format::{Format, LogfmtFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let mut event = RawEvent::new(Level::Info, "user logged in");
//! event.push_field("user", "ada");
//! event.push_field("note", "two\nlines");
//! event.push_field("level", "shadowed");
//! let mut out = Vec::new();
//! LogfmtFormat::new().encode(&Envelope::new(&event), &mut out);
//! let line = String::from_utf8(out).unwrap();
//! assert!(line.ends_with(
//!     " level=INFO msg=\"user logged in\" user=ada note=\"two\\nlines\" fields.level=shadowed\n"
//! ));
//! ```

use std::fmt;

use super::escape::{is_logfmt_bare, write_json_body, write_json_body_bytes, write_json_string};
use super::json::{non_finite, write_string_array, write_value};
use super::time::TimestampCache;
use super::{Format, DEFAULT_MAX_STRING_BYTES};
use crate::envelope::Envelope;
use crate::value::Value;

/// Prefix of user fields whose key is reserved.
const FIELDS_PREFIX: &str = "fields.";

/// Encodes each envelope as one logfmt line.
///
/// The scheme, exactly:
///
/// - Pairs are `key=value`, separated by one space; the line ends in `\n`.
/// - A key or a string value is written **bare** when it is non-empty and
///   holds only `[A-Za-z0-9_.:/@+-]`; otherwise it is **quoted**: a JSON
///   string literal (`"` and `\` escaped, `\n \r \t \b \f`, every other
///   control, C1, U+2028/U+2029 and bidi character as `\uXXXX`, all else raw
///   UTF-8). So any key or value's text round-trips, and a quoted one can be
///   read back with any JSON parser. (Types do not: as in logfmt generally,
///   the string `"42"` and the integer 42 are both written `42`, the string
///   `"null"` and a null both `null`. The JSON format keeps them apart.)
/// - A string longer than the limit is cut at a character boundary, ends in
///   `…[truncated N bytes]` and is therefore always quoted. Keys are never cut.
/// - Null is `null`, booleans `true`/`false`, integers in decimal, floats in
///   shortest round-trip form (`NaN`, `inf`, `-inf` when not finite). Lists
///   and maps are compact JSON, written as one quoted string.
/// - Fixed keys come first, in this order: `ts level msg seq target
///   correlation_id sampled sample_rate promoted` (optional ones only when
///   present, `promoted` only when true), then the user fields, then
///   `error.type`, `error.message`, `error.chain` (a quoted JSON array, only
///   when the error has sources) and `error.backtrace` (when captured).
/// - A user field whose key is reserved (see
///   [`RESERVED_KEYS`](crate::RESERVED_KEYS)) or starts with `fields.` or
///   `error.` is written as `fields.<key>`, so no user field can pass for
///   one fapilog writes. Every key that starts with `fields.` is a user
///   field: strip the prefix to get its name back.
///
/// ```text
/// ts=2026-11-22T13:05:00.123456Z level=INFO msg="user logged in" seq=7 correlation_id=c-1 user=ada fields.level=x
/// ```
///
/// ```
/// use fapilog_core::format::LogfmtFormat;
/// let format = LogfmtFormat::new().max_string_bytes(1024);
/// # let _ = format;
/// ```
#[derive(Clone)]
pub struct LogfmtFormat {
    max_string_bytes: usize,
    /// Reused for nested values (rendered as JSON, then quoted); grows once, never per event.
    scratch: Vec<u8>,
    timestamps: TimestampCache,
}

impl fmt::Debug for LogfmtFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogfmtFormat")
            .field("max_string_bytes", &self.max_string_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for LogfmtFormat {
    fn default() -> Self {
        LogfmtFormat::new()
    }
}

impl LogfmtFormat {
    /// A logfmt format with the default string limit ([`DEFAULT_MAX_STRING_BYTES`]).
    pub const fn new() -> Self {
        LogfmtFormat {
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            scratch: Vec::new(),
            timestamps: TimestampCache::new(),
        }
    }

    /// Cuts the message and every string value longer than `max` bytes
    /// (default [`DEFAULT_MAX_STRING_BYTES`]); keys are never cut.
    #[must_use]
    pub const fn max_string_bytes(mut self, max: usize) -> Self {
        self.max_string_bytes = max;
        self
    }

    /// Writes `value` as compact JSON, then as one quoted string.
    fn write_nested(&mut self, out: &mut Vec<u8>, value: &Value) {
        self.scratch.clear();
        write_value(&mut self.scratch, value, self.max_string_bytes);
        out.push(b'"');
        write_json_body_bytes(out, &self.scratch);
        out.push(b'"');
    }

    fn write_error_chain(&mut self, out: &mut Vec<u8>, chain: &[String]) {
        self.scratch.clear();
        write_string_array(&mut self.scratch, chain, self.max_string_bytes);
        out.push(b'"');
        write_json_body_bytes(out, &self.scratch);
        out.push(b'"');
    }
}

/// Writes a string value: bare when safe and not cut, quoted otherwise.
#[inline]
fn write_str_value(out: &mut Vec<u8>, s: &str, max: usize) {
    if s.len() <= max && is_logfmt_bare(s) {
        out.extend_from_slice(s.as_bytes());
    } else {
        write_json_string(out, s, max);
    }
}

/// Writes ` prefix+key=` with the key bare when safe, quoted otherwise.
#[inline]
fn write_key(out: &mut Vec<u8>, prefix: &str, key: &str) {
    out.push(b' ');
    if is_logfmt_bare(key) {
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

/// Writes a float bare: shortest round-trip form, or `NaN`, `inf`, `-inf`.
#[inline]
fn write_f64_bare(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(non_finite(v).as_bytes());
    }
}

/// Whether a user field must be written as `fields.<key>`.
#[inline]
pub(crate) fn needs_prefix(key: &str) -> bool {
    Envelope::is_reserved(key) || key.starts_with(FIELDS_PREFIX) || key.starts_with("error.")
}

impl Format for LogfmtFormat {
    fn encode(&mut self, envelope: &Envelope<'_>, out: &mut Vec<u8>) {
        let max = self.max_string_bytes;
        out.extend_from_slice(b"ts=");
        self.timestamps.write(out, envelope.timestamp());
        out.extend_from_slice(b" level=");
        out.extend_from_slice(envelope.level().as_str().as_bytes());
        out.extend_from_slice(b" msg=");
        write_str_value(out, envelope.message(), max);
        if let Some(seq) = envelope.seq() {
            out.extend_from_slice(b" seq=");
            out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
        }
        if let Some(target) = envelope.target() {
            out.extend_from_slice(b" target=");
            write_str_value(out, target, max);
        }
        if let Some(id) = envelope.correlation_id() {
            out.extend_from_slice(b" correlation_id=");
            write_str_value(out, id, max);
        }
        if let Some(tag) = envelope.sampling() {
            out.extend_from_slice(if tag.sampled {
                b" sampled=true sample_rate="
            } else {
                b" sampled=false sample_rate="
            });
            write_f64_bare(out, tag.sample_rate);
            if tag.promoted {
                out.extend_from_slice(b" promoted=true");
            }
        }

        for field in envelope.fields() {
            let key = field.key();
            write_key(out, if needs_prefix(key) { FIELDS_PREFIX } else { "" }, key);
            match field.value() {
                Value::Null => out.extend_from_slice(b"null"),
                Value::Bool(true) => out.extend_from_slice(b"true"),
                Value::Bool(false) => out.extend_from_slice(b"false"),
                Value::I64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
                Value::U64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
                Value::F64(v) => write_f64_bare(out, *v),
                nested @ (Value::Seq(_) | Value::Map(_)) => self.write_nested(out, nested),
                other => write_str_value(out, other.as_str().unwrap_or_default(), max),
            }
        }

        if let Some(error) = envelope.error() {
            out.extend_from_slice(b" error.type=");
            write_str_value(out, error.type_name(), max);
            out.extend_from_slice(b" error.message=");
            write_str_value(out, error.message(), max);
            if !error.chain().is_empty() {
                out.extend_from_slice(b" error.chain=");
                self.write_error_chain(out, error.chain());
            }
            if let Some(bt) = error.backtrace() {
                out.extend_from_slice(b" error.backtrace=");
                write_str_value(out, bt, max);
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
    use crate::level::Level;
    use crate::value::Field;

    fn encode(event: &RawEvent) -> String {
        encode_line(&mut LogfmtFormat::new(), event)
    }

    #[test]
    fn full_envelope() {
        let mut event = billing_event(Level::Error, "paid in full");
        event.push_field("amount", 12.5);
        event.push_field("ok", false);
        event.push_field("none", Value::Null);
        event.push_field("empty", "");
        event.push_field("tags", vec!["a", "b c"]);
        event.push_field("level", "x");
        event.push_field("error.type", "forged");
        event.push_field("key with space", 1u64);
        event.set_error(CapturedError::from_parts(
            "io::Error",
            "disk full",
            vec!["inner".into(), "root".into()],
        ));
        assert_eq!(
            encode(&event),
            concat!(
                r#"ts=2026-11-22T13:05:00.123456Z level=ERROR msg="paid in full" seq=7 "#,
                r#"target=billing::pay correlation_id=c-1 sampled=true sample_rate=0.1 promoted=true "#,
                r#"amount=12.5 ok=false none=null empty="" tags="[\"a\",\"b c\"]" fields.level=x "#,
                r#"fields.error.type=forged "key with space"=1 "#,
                r#"error.type=io::Error error.message="disk full" error.chain="[\"inner\",\"root\"]""#,
                "\n"
            )
        );
    }

    #[test]
    fn floats_and_truncation() {
        let mut event = RawEvent::new(Level::Info, "abcdefgh");
        event.push_field("nan", f64::NAN);
        event.push_field("ninf", f64::NEG_INFINITY);
        event.push_field("s", "xyz");
        let line = encode_line(&mut LogfmtFormat::new().max_string_bytes(3), &event);
        assert!(
            line.ends_with(" msg=\"abc…[truncated 5 bytes]\" nan=NaN ninf=-inf s=xyz\n"),
            "{line}"
        );
    }

    #[test]
    fn nested_values_are_quoted_json() {
        let mut event = RawEvent::new(Level::Info, "m");
        event.push_field(
            "m",
            Value::Map(vec![Field::new("k\n", "v\"")].into_boxed_slice()),
        );
        let line = encode(&event);
        let quoted = line
            .strip_suffix('\n')
            .unwrap()
            .split_once(" m=")
            .unwrap()
            .1;
        let json: String = serde_json::from_str(quoted).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["k\n"], "v\"");
    }
}
