//! JSON lines: one object per event, fixed keys first, valid JSON for any input.
//!
//! The exact output is described on [`JsonFormat`].
//!
//! # Example
//!
//! ```
//! use fapilog_core::format::{Format, JsonFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let mut event = RawEvent::new(Level::Warn, "slow");
//! event.push_field("ms", 1250u64);
//! event.push_field("msg", "collides");
//! let mut out = Vec::new();
//! JsonFormat::new().encode(&Envelope::new(&event), &mut out);
//! let line = std::str::from_utf8(&out).unwrap();
//! assert!(line.ends_with(concat!(r#","msg":"slow","ms":1250,"fields":{"msg":"collides"}}"#, "\n")));
//! ```

use super::escape::{write_json_key, write_json_string, write_json_text};
use super::time::TimestampCache;
use super::{Format, DEFAULT_MAX_STRING_BYTES};
use crate::envelope::Envelope;
use crate::event::CapturedError;
use crate::value::{Field, Value};

/// Encodes each envelope as one line of JSON.
///
/// Keys are written in this order: `ts`, `level`, `msg`, `seq`, `target`,
/// `correlation_id`, `sampled`, `sample_rate`, `promoted` (only when true),
/// then the user fields, then `fields` (user fields whose key is reserved,
/// see [`RESERVED_KEYS`](crate::RESERVED_KEYS)), then `error`. Optional keys
/// are left out when absent. Strings (the message, string values and the
/// error's parts, not keys) longer than the limit are cut at a character
/// boundary and end in `…[truncated N bytes]`. NaN and infinities are written
/// as the strings `"NaN"`, `"inf"` and `"-inf"`. Lists and maps nested more
/// than 64 deep are cut there, the rest written as the string `"…[too deep]"`
/// (the logfmt and pretty formats share this rule for their nested values).
///
/// ```text
/// {"ts":"2026-11-22T13:05:00.123456Z","level":"INFO","msg":"paid","seq":7,"correlation_id":"c-1","sampled":true,"sample_rate":0.1,"amount":12.5,"fields":{"level":"x"}}
/// ```
///
/// ```
/// use fapilog_core::format::JsonFormat;
/// let format = JsonFormat::new().max_string_bytes(4096);
/// # let _ = format;
/// ```
#[derive(Debug, Clone)]
pub struct JsonFormat {
    max_string_bytes: usize,
    timestamps: TimestampCache,
    sample_rate: F64Cache,
}

impl Default for JsonFormat {
    fn default() -> Self {
        JsonFormat::new()
    }
}

impl JsonFormat {
    /// A JSON format with the default string limit ([`DEFAULT_MAX_STRING_BYTES`]).
    pub const fn new() -> Self {
        JsonFormat {
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            timestamps: TimestampCache::new(),
            sample_rate: F64Cache::new(),
        }
    }

    /// Cuts the message and every string value longer than `max` bytes
    /// (default [`DEFAULT_MAX_STRING_BYTES`]); keys are never cut.
    #[must_use]
    pub const fn max_string_bytes(mut self, max: usize) -> Self {
        self.max_string_bytes = max;
        self
    }
}

impl Format for JsonFormat {
    fn encode(&mut self, envelope: &Envelope<'_>, out: &mut Vec<u8>) {
        let max = self.max_string_bytes;
        out.extend_from_slice(b"{\"ts\":\"");
        self.timestamps.write(out, envelope.timestamp());
        out.extend_from_slice(b"\",\"level\":\"");
        out.extend_from_slice(envelope.level().as_str().as_bytes());
        out.extend_from_slice(b"\",\"msg\":");
        write_json_string(out, envelope.message(), max);
        if let Some(seq) = envelope.seq() {
            out.extend_from_slice(b",\"seq\":");
            out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
        }
        if let Some(target) = envelope.target() {
            out.extend_from_slice(b",\"target\":");
            write_json_string(out, target, max);
        }
        if let Some(id) = envelope.correlation_text() {
            out.extend_from_slice(b",\"correlation_id\":");
            write_json_text(out, id.as_bytes(), max);
        }
        if let Some(tag) = envelope.sampling() {
            out.extend_from_slice(if tag.sampled {
                b",\"sampled\":true,\"sample_rate\":"
            } else {
                b",\"sampled\":false,\"sample_rate\":"
            });
            self.sample_rate.write(out, tag.sample_rate);
            if tag.promoted {
                out.extend_from_slice(b",\"promoted\":true");
            }
        }

        let mut any_reserved = false;
        for field in envelope.fields() {
            if Envelope::is_reserved(field.key()) {
                any_reserved = true;
                continue;
            }
            out.push(b',');
            write_member(out, field, max);
        }
        if any_reserved {
            out.extend_from_slice(b",\"fields\":{");
            let mut first = true;
            for field in envelope.fields().filter(|f| Envelope::is_reserved(f.key())) {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_member(out, field, max);
            }
            out.push(b'}');
        }

        if let Some(error) = envelope.error() {
            out.extend_from_slice(b",\"error\":");
            write_error(out, error, max);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// How deep lists and maps are followed; deeper values are written as the string `"…[too deep]"`.
pub(crate) const MAX_NESTING: usize = 64;

/// What is written in place of a list or map nested [`MAX_NESTING`] deep.
pub(crate) const TOO_DEEP: &str = "…[too deep]";

/// Writes `"key":value`.
#[inline]
fn write_member(out: &mut Vec<u8>, field: &Field, max: usize) {
    write_json_key(out, field.key());
    out.push(b':');
    write_value(out, field.value(), max);
}

/// Writes `"key":value` for a member of a map at `depth`.
fn write_nested_member(out: &mut Vec<u8>, field: &Field, max: usize, depth: usize) {
    write_json_key(out, field.key());
    out.push(b':');
    write_value_at(out, field.value(), max, depth);
}

/// Remembers how the last float was written: a layer's sample rate is the
/// same on every event, and rendering a float costs more than the lookup.
/// `len == 0` means nothing is remembered yet.
#[derive(Debug, Clone)]
struct F64Cache {
    bits: u64,
    len: usize,
    buf: [u8; 24],
}

impl F64Cache {
    const fn new() -> Self {
        F64Cache {
            bits: 0,
            len: 0,
            buf: [0; 24],
        }
    }

    fn write(&mut self, out: &mut Vec<u8>, v: f64) {
        if v.to_bits() != self.bits || self.len == 0 {
            let start = out.len();
            write_f64(out, v);
            let written = out.get(start..).unwrap_or_default();
            if let Some(slot) = self.buf.get_mut(..written.len()) {
                slot.copy_from_slice(written);
                self.bits = v.to_bits();
                self.len = written.len();
            }
            return;
        }
        out.extend_from_slice(self.buf.get(..self.len).unwrap_or_default());
    }
}

/// Writes a float: shortest round-trip form, or `"NaN"`, `"inf"`, `"-inf"`.
#[inline]
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.push(b'"');
        out.extend_from_slice(non_finite(v).as_bytes());
        out.push(b'"');
    }
}

/// The name written for a non-finite float: `NaN`, `inf` or `-inf`.
#[inline]
pub(crate) fn non_finite(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v.is_sign_negative() {
        "-inf"
    } else {
        "inf"
    }
}

/// Writes `value` as compact JSON; strings are escaped and cut to `max` bytes.
#[inline]
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value, max: usize) {
    write_value_at(out, value, max, 0);
}

/// [`write_value`] for a value nested `depth` lists or maps deep.
fn write_value_at(out: &mut Vec<u8>, value: &Value, max: usize, depth: usize) {
    if depth >= MAX_NESTING && matches!(value, Value::Seq(_) | Value::Map(_)) {
        out.push(b'"');
        out.extend_from_slice(TOO_DEEP.as_bytes());
        out.push(b'"');
        return;
    }
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::I64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Value::U64(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Value::F64(v) => write_f64(out, *v),
        Value::Seq(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_at(out, item, max, depth + 1);
            }
            out.push(b']');
        }
        Value::Map(fields) => {
            out.push(b'{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_nested_member(out, field, max, depth + 1);
            }
            out.push(b'}');
        }
        other => write_json_text(out, other.text_bytes().unwrap_or_default(), max),
    }
}

/// Writes a JSON array of strings, each cut to `max` bytes.
pub(crate) fn write_string_array(out: &mut Vec<u8>, items: &[String], max: usize) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, item, max);
    }
    out.push(b']');
}

/// Writes `{"type":..,"message":..,"chain":[..],"backtrace":..}` (`backtrace` only when captured).
fn write_error(out: &mut Vec<u8>, error: &CapturedError, max: usize) {
    out.extend_from_slice(b"{\"type\":");
    write_json_string(out, error.type_name(), max);
    out.extend_from_slice(b",\"message\":");
    write_json_string(out, error.message(), max);
    out.extend_from_slice(b",\"chain\":");
    write_string_array(out, error.chain(), max);
    if let Some(bt) = error.backtrace() {
        out.extend_from_slice(b",\"backtrace\":");
        write_json_string(out, bt, max);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use crate::event::{RawEvent, SamplingTag, Timestamp};
    use crate::level::Level;
    use std::num::NonZeroU64;
    use std::sync::Arc;

    fn encode(event: &RawEvent) -> String {
        let mut out = Vec::new();
        JsonFormat::new().encode(&Envelope::new(event), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn parse(line: &str) -> serde_json::Value {
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn full_envelope_in_key_order() {
        let mut event = RawEvent::new(Level::Error, "paid");
        event.timestamp = Timestamp::from_unix_nanos(1_795_352_700_123_456_000);
        event.seq = NonZeroU64::new(7);
        event.set_target("billing::pay");
        event.set_context(Arc::new(
            Context::new()
                .with_field(Field::new("region", "eu"))
                .with_correlation_id("c-1"),
        ));
        event.set_sampling(SamplingTag {
            sampled: true,
            sample_rate: 0.1,
            promoted: true,
        });
        event.push_field("amount", 12.5);
        event.push_field("level", "x");
        event.push_field("n", -3i64);
        event.set_error(CapturedError::from_parts(
            "io::Error",
            "disk \"full\"",
            vec!["inner".into()],
        ));
        assert_eq!(
            encode(&event),
            concat!(
                r#"{"ts":"2026-11-22T13:05:00.123456Z","level":"ERROR","msg":"paid","seq":7,"#,
                r#""target":"billing::pay","correlation_id":"c-1","sampled":true,"sample_rate":0.1,"#,
                r#""promoted":true,"region":"eu","amount":12.5,"n":-3,"fields":{"level":"x"},"#,
                r#""error":{"type":"io::Error","message":"disk \"full\"","chain":["inner"]}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn minimal_envelope_leaves_optional_keys_out() {
        let event = RawEvent::new(Level::Info, "hi");
        let v = parse(&encode(&event));
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["msg"], "hi");
    }

    #[test]
    fn unsampled_not_promoted() {
        let mut event = RawEvent::new(Level::Info, "hi");
        event.set_sampling(SamplingTag {
            sampled: false,
            sample_rate: 1.0,
            promoted: false,
        });
        let line = encode(&event);
        assert!(
            line.contains(r#""sampled":false,"sample_rate":1.0}"#),
            "{line}"
        );
    }

    #[test]
    fn non_finite_floats_are_strings() {
        let mut event = RawEvent::new(Level::Info, "f");
        event.push_field("nan", f64::NAN);
        event.push_field("inf", f64::INFINITY);
        event.push_field("ninf", f64::NEG_INFINITY);
        event.push_field("tiny", 1e-300);
        event.push_field("big", 1e300);
        let v = parse(&encode(&event));
        assert_eq!(v["nan"], "NaN");
        assert_eq!(v["inf"], "inf");
        assert_eq!(v["ninf"], "-inf");
        assert_eq!(v["tiny"].as_f64(), Some(1e-300));
        assert_eq!(v["big"].as_f64(), Some(1e300));
    }

    #[test]
    fn nested_values() {
        let mut event = RawEvent::new(Level::Info, "n");
        event.push_field(
            "m",
            Value::Map(
                vec![
                    Field::new("a", vec![1u64, 2]),
                    Field::new("b\n", Value::Null),
                    Field::new(
                        "c",
                        Value::Seq(Box::new([Value::Bool(true), Value::from("x")])),
                    ),
                ]
                .into(),
            ),
        );
        let line = encode(&event);
        assert!(
            line.contains(r#""m":{"a":[1,2],"b\n":null,"c":[true,"x"]}"#),
            "{line}"
        );
        parse(&line);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut v = Value::from(1u64);
        for i in 0..MAX_NESTING + 5 {
            v = if i % 2 == 0 {
                Value::Seq(Box::new([v]))
            } else {
                Value::Map(Box::new([Field::new("k", v)]))
            };
        }
        let mut event = RawEvent::new(Level::Info, "deep");
        event.push_field("v", v);
        let line = encode(&event);
        assert!(line.contains("\"…[too deep]\""));
        parse(&line);
    }

    #[test]
    fn truncation_marks_and_stays_valid() {
        let mut event = RawEvent::new(Level::Info, "é".repeat(10));
        event.push_field("v", "abcdefgh");
        event.push_field("short", "ab");
        event.push_field("copied", Value::from_str_copied("aé\u{1}é"));
        event.push_field("fits", Value::from_str_copied("a\"é"));
        event.set_context(Arc::new(Context::new().with_correlation_id("req-1234")));
        let mut out = Vec::new();
        JsonFormat::new()
            .max_string_bytes(5)
            .encode(&Envelope::new(&event), &mut out);
        let v = parse(std::str::from_utf8(&out).unwrap());
        assert_eq!(v["msg"], "éé…[truncated 16 bytes]");
        assert_eq!(v["v"], "abcde…[truncated 3 bytes]");
        assert_eq!(v["short"], "ab");
        assert_eq!(v["copied"], "aé\u{1}…[truncated 2 bytes]");
        assert_eq!(v["fits"], "a\"é");
        assert_eq!(v["correlation_id"], "req-1…[truncated 3 bytes]");
    }

    #[test]
    fn one_format_writes_each_events_own_sample_rate() {
        let mut format = JsonFormat::new();
        let mut lines = Vec::new();
        for rate in [0.1, 0.1, 1.0, 0.25, 0.1] {
            let mut event = RawEvent::new(Level::Info, "x");
            event.set_sampling(SamplingTag {
                sampled: true,
                sample_rate: rate,
                promoted: false,
            });
            let mut out = Vec::new();
            format.encode(&Envelope::new(&event), &mut out);
            let line = String::from_utf8(out).unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            lines.push(v["sample_rate"].as_f64().unwrap());
        }
        assert_eq!(lines, [0.1, 0.1, 1.0, 0.25, 0.1]);
    }

    #[test]
    fn backtrace_when_captured() {
        let mut event = RawEvent::new(Level::Error, "e");
        let err = std::io::Error::other("boom");
        event.set_error(CapturedError::new(&err).with_backtrace());
        let v = parse(&encode(&event));
        assert_eq!(v["error"]["message"], "boom");
        assert!(v["error"]["backtrace"].is_string());
        assert_eq!(v["error"]["chain"], serde_json::json!([]));
    }
}
