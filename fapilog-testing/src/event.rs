//! [`CapturedEvent`]: one written log line, parsed back into typed parts.
//!
//! The parts follow `docs/schema.md`: the fixed keys become typed fields
//! (`level` a [`Level`], `seq` a `u64`, …) and every user field, including
//! one that collided with a fixed key and was written under `fields`, is in
//! [`CapturedEvent::fields`] as a `serde_json::Value`.
//!
//! # Example
//!
//! ```
//! use fapilog_core::Level;
//! use fapilog_testing::CapturedEvent;
//!
//! let line = r#"{"ts":"2026-11-22T13:05:00.123456Z","level":"ERROR","msg":"paid","seq":7,"target":"shop","correlation_id":"c-1","sampled":true,"sample_rate":0.1,"promoted":true,"amount":12.5,"fields":{"level":"x"},"error":{"type":"E","message":"declined","chain":["card"]}}"#;
//! let event = CapturedEvent::parse(line).unwrap();
//! assert_eq!((event.level, event.message.as_str(), event.seq), (Level::Error, "paid", Some(7)));
//! assert_eq!(event.correlation_id.as_deref(), Some("c-1"));
//! assert_eq!((event.sampled, event.promoted), (Some(true), true));
//! assert_eq!(event.field("amount"), Some(&serde_json::json!(12.5)));
//! assert_eq!(event.field("level"), Some(&serde_json::json!("x")));
//! assert_eq!(event.error.as_ref().unwrap().chain, ["card"]);
//! assert_eq!(event.timestamp().unwrap().unix_nanos(), 1_795_352_700_123_456_000);
//! ```

use std::fmt;

use fapilog_core::{Level, Timestamp};
use serde_json::{Map, Value as Json};

/// The target of the records fapilog writes itself (loss records).
pub const FAPILOG_TARGET: &str = "fapilog";

/// The message of fapilog's loss records.
const LOSS_RECORD_MESSAGE: &str = "events dropped";

/// One event as it was written, with its parts typed.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use fapilog_core::{info, Level};
/// use fapilog_testing::LogCapture;
///
/// let capture = LogCapture::new()?;
/// info!(capture.logger().with_correlation_id("req-1"), "paid", amount = 12.5);
/// let event = capture.flush()?.events().remove(0);
/// assert_eq!((event.level, event.message.as_str()), (Level::Info, "paid"));
/// assert_eq!(event.correlation_id.as_deref(), Some("req-1"));
/// assert_eq!(event.field("amount"), Some(&serde_json::json!(12.5)));
/// assert!(event.line.starts_with(r#"{"ts":""#));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CapturedEvent {
    /// `ts`: the capture time as written (RFC 3339 UTC, microseconds); see [`timestamp`](Self::timestamp).
    pub ts: String,
    /// `level`.
    pub level: Level,
    /// `msg`.
    pub message: String,
    /// `seq`: the pipeline sequence number (`None` on fapilog's own loss records).
    pub seq: Option<u64>,
    /// `target`: the module path or component the event came from.
    pub target: Option<String>,
    /// `correlation_id`, for events logged inside a request.
    pub correlation_id: Option<String>,
    /// `sampled`, for request events.
    pub sampled: Option<bool>,
    /// `sample_rate`, for request events.
    pub sample_rate: Option<f64>,
    /// `promoted`: the request was kept because it failed.
    pub promoted: bool,
    /// The user fields (bound context and the call's), including those written under `fields`.
    pub fields: Map<String, Json>,
    /// `error`, when one was captured.
    pub error: Option<LoggedError>,
    /// The line as written, without its `\n`.
    pub line: String,
}

/// The `error` object of an event.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use fapilog_core::error;
/// use fapilog_testing::LogCapture;
///
/// let capture = LogCapture::new()?;
/// let err = std::io::Error::other("disk full");
/// error!(capture.logger(), "save failed", error = &err);
/// let logged = capture.flush()?.events().remove(0).error.unwrap();
/// assert_eq!(logged.message, "disk full");
/// assert!(logged.type_name.ends_with("Error") && logged.chain.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedError {
    /// `type`: the error's type name.
    pub type_name: String,
    /// `message`: the error's `Display`.
    pub message: String,
    /// `chain`: the `Display` of each `source()`, nearest first.
    pub chain: Vec<String>,
    /// `backtrace`, when one was captured.
    pub backtrace: Option<String>,
}

/// Why a line could not be read as an event.
///
/// ```
/// use fapilog_testing::CapturedEvent;
///
/// let err = CapturedEvent::parse("level=INFO msg=logfmt").unwrap_err();
/// assert!(err.to_string().contains("not a JSON object"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseEventError {
    reason: String,
}

impl fmt::Display for ParseEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a fapilog JSON event: {}", self.reason)
    }
}

impl std::error::Error for ParseEventError {}

fn invalid(reason: impl Into<String>) -> ParseEventError {
    ParseEventError {
        reason: reason.into(),
    }
}

fn take_str(object: &mut Map<String, Json>, key: &str) -> Result<Option<String>, ParseEventError> {
    match object.remove(key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(format!("`{key}` is {other}, not a string"))),
    }
}

fn take_required_str(object: &mut Map<String, Json>, key: &str) -> Result<String, ParseEventError> {
    take_str(object, key)?.ok_or_else(|| invalid(format!("no `{key}`")))
}

impl CapturedEvent {
    /// Parses one line written by `JsonFormat` (with or without its `\n`).
    ///
    /// # Errors
    ///
    /// [`ParseEventError`] if the line is not a JSON object with `ts`, `level` and `msg`.
    pub fn parse(line: &str) -> Result<CapturedEvent, ParseEventError> {
        let line = line.trim_end_matches(['\n', '\r']);
        let mut object = match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(object)) => object,
            Ok(_) | Err(_) => return Err(invalid("not a JSON object")),
        };
        let ts = take_required_str(&mut object, "ts")?;
        let level_text = take_required_str(&mut object, "level")?;
        let level = level_text
            .parse::<Level>()
            .map_err(|e| invalid(e.to_string()))?;
        let message = take_required_str(&mut object, "msg")?;
        let seq = match object.remove("seq") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| invalid("`seq` is not a u64"))?),
        };
        let target = take_str(&mut object, "target")?;
        let correlation_id = take_str(&mut object, "correlation_id")?;
        let sampled = object.remove("sampled").and_then(|v| v.as_bool());
        let sample_rate = object.remove("sample_rate").and_then(|v| v.as_f64());
        let promoted = object
            .remove("promoted")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let error = match object.remove("error") {
            None => None,
            Some(Json::Object(mut e)) => Some(LoggedError {
                type_name: take_str(&mut e, "type")?.unwrap_or_default(),
                message: take_str(&mut e, "message")?.unwrap_or_default(),
                chain: match e.remove("chain") {
                    Some(Json::Array(items)) => items
                        .into_iter()
                        .map(|i| match i {
                            Json::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                backtrace: take_str(&mut e, "backtrace")?,
            }),
            Some(other) => return Err(invalid(format!("`error` is {other}, not an object"))),
        };
        let mut fields = object;
        if let Some(Json::Object(collided)) = fields.remove("fields") {
            fields.extend(collided);
        }
        Ok(CapturedEvent {
            ts,
            level,
            message,
            seq,
            target,
            correlation_id,
            sampled,
            sample_rate,
            promoted,
            fields,
            error,
            line: line.to_owned(),
        })
    }

    /// The user field `key`, if the event has it.
    pub fn field(&self, key: &str) -> Option<&Json> {
        self.fields.get(key)
    }

    /// The capture time, parsed from `ts` (`None` if it is not `YYYY-MM-DDTHH:MM:SS.ffffffZ`).
    pub fn timestamp(&self) -> Option<Timestamp> {
        parse_rfc3339_micros(&self.ts).map(Timestamp::from_unix_nanos)
    }

    /// Whether this is one of fapilog's loss records (`"events dropped"`,
    /// target `fapilog`), not a logged event. Other records fapilog writes
    /// itself (throttling's `"events throttled"`, aggregation summaries) are
    /// events: find them by message.
    pub fn is_loss_record(&self) -> bool {
        self.seq.is_none()
            && self.target.as_deref() == Some(FAPILOG_TARGET)
            && self.message == LOSS_RECORD_MESSAGE
    }

    /// The whole line as a JSON value.
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.line).unwrap_or(Json::Null)
    }
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` as nanoseconds since the Unix epoch.
fn parse_rfc3339_micros(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = ts.get(range)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let (month, day) = (num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(num(0..4)?, month, day)?;
    let secs = days * 86_400 + num(11..13)? * 3_600 + num(14..16)? * 60 + num(17..19)?;
    Some(secs * 1_000_000_000 + num(20..26)? * 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fapilog_core::format::{Format, JsonFormat};
    use fapilog_core::{Context, Envelope, RawEvent, SamplingTag};
    use std::sync::Arc;

    #[test]
    fn round_trips_what_json_format_writes() {
        let mut raw = RawEvent::new(Level::Warn, "slow \"query\"\n");
        raw.set_target("db");
        raw.push_field("ms", 1250u64);
        raw.push_field("ratio", 0.25);
        raw.push_field("msg", "collides");
        raw.set_context(Arc::new(Context::new().with_correlation_id("req-9")));
        raw.set_sampling(SamplingTag {
            sampled: false,
            sample_rate: 0.5,
            promoted: false,
        });
        raw.set_error(fapilog_core::CapturedError::from_parts(
            "io::Error",
            "boom",
            vec!["inner".into()],
        ));
        let mut out = Vec::new();
        JsonFormat::new().encode(&Envelope::new(&raw), &mut out);
        let event = CapturedEvent::parse(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(event.level, Level::Warn);
        assert_eq!(event.message, "slow \"query\"\n");
        assert_eq!(event.target.as_deref(), Some("db"));
        assert_eq!(event.correlation_id.as_deref(), Some("req-9"));
        assert_eq!((event.sampled, event.sample_rate), (Some(false), Some(0.5)));
        assert!(!event.promoted);
        assert_eq!(event.field("ms"), Some(&serde_json::json!(1250)));
        assert_eq!(event.field("msg"), Some(&serde_json::json!("collides")));
        let error = event.error.as_ref().unwrap();
        assert_eq!(
            (error.type_name.as_str(), error.message.as_str()),
            ("io::Error", "boom")
        );
        assert_eq!(error.chain, ["inner"]);
        let written = raw.timestamp().unix_nanos() / 1_000 * 1_000;
        assert_eq!(event.timestamp().unwrap().unix_nanos(), written);
        assert!(!event.is_loss_record());
        assert_eq!(event.json()["ms"], 1250);
    }

    #[test]
    fn rejects_what_is_not_an_event() {
        assert!(CapturedEvent::parse("[1]").is_err());
        assert!(CapturedEvent::parse(r#"{"ts":"x","level":"LOUD","msg":"m"}"#).is_err());
        assert!(CapturedEvent::parse(r#"{"level":"INFO","msg":"m"}"#).is_err());
    }

    #[test]
    fn timestamps_parse_only_the_written_form() {
        assert_eq!(
            parse_rfc3339_micros("1970-01-01T00:00:00.000001Z"),
            Some(1_000)
        );
        assert_eq!(
            parse_rfc3339_micros("2000-03-01T00:00:00.000000Z"),
            Some(951_868_800_000_000_000)
        );
        assert_eq!(parse_rfc3339_micros("2000-13-01T00:00:00.000000Z"), None);
        assert_eq!(parse_rfc3339_micros("2000-03-01 00:00:00.000000Z"), None);
    }
}
