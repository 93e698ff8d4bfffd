//! Correlation IDs: validate an incoming ID, read a W3C `traceparent`, or generate a new one.
//!
//! An incoming ID is accepted only if it is 1 to 128 bytes of `[A-Za-z0-9._:-]`.
//! Anything else (spaces, control characters, CR/LF, non-ASCII, non-UTF-8) is
//! replaced by a fresh ID and its raw value is never stored or logged, so a
//! client cannot inject text into the logs through the header.
//!
//! # Example
//!
//! ```
//! use fapilog_axum::correlation::{CorrelationConfig, CorrelationId, IdSource};
//! use http::{HeaderMap, HeaderValue};
//!
//! let config = CorrelationConfig::new();
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-request-id", HeaderValue::from_static("req-42"));
//! let resolved = config.resolve(&headers);
//! assert_eq!(resolved.id.as_str(), "req-42");
//! assert_eq!(resolved.source, IdSource::Header);
//!
//! // An ID carrying a line break is replaced, never echoed.
//! assert_eq!(CorrelationId::parse(b"abc\r\nlevel=ERROR"), None);
//! let mut headers = HeaderMap::new();
//! headers.insert("x-request-id", HeaderValue::from_static("has space"));
//! let resolved = config.resolve(&headers);
//! assert_eq!(resolved.source, IdSource::Generated);
//! assert!(resolved.replaced_invalid);
//! assert_ne!(resolved.id.as_str(), "has space");
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use fapilog_core::{ConfigError, CorrelationText};
use http::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

/// The header read (and echoed) by default: `x-request-id`.
pub const DEFAULT_HEADER: &str = "x-request-id";

/// The W3C Trace Context header: `traceparent`.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The longest accepted correlation ID, in bytes.
pub const MAX_LEN: usize = 128;

/// `ALLOWED[b]` is true when byte `b` may appear in a correlation ID: `[A-Za-z0-9._:-]`.
const ALLOWED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-');
        b += 1;
    }
    table
};

/// A validated correlation ID: 1 to [`MAX_LEN`] bytes of `[A-Za-z0-9._:-]`.
///
/// Cheap to clone: IDs of up to [`INLINE_ID_LEN`](fapilog_core::INLINE_ID_LEN) bytes (UUIDs, W3C trace
/// IDs) are stored inline, longer ones in a reference-counted string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(CorrelationText);

impl fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CorrelationId")
            .field(&self.as_str())
            .finish()
    }
}

impl CorrelationId {
    /// Validates `value` as a correlation ID.
    ///
    /// Returns `None` if it is empty, longer than [`MAX_LEN`] bytes, or holds
    /// any byte outside `[A-Za-z0-9._:-]` (which rules out spaces, control
    /// characters, CR/LF, non-ASCII and non-UTF-8 input).
    ///
    /// ```
    /// use fapilog_axum::correlation::CorrelationId;
    ///
    /// assert!(CorrelationId::parse(b"0190f1e2-7a3b-7c4d-8e5f-0123456789ab").is_some());
    /// assert!(CorrelationId::parse(b"bad id").is_none());
    /// ```
    pub fn parse(value: &[u8]) -> Option<CorrelationId> {
        if value.is_empty() || value.len() > MAX_LEN {
            return None;
        }
        if !value.iter().all(|&b| ALLOWED[usize::from(b)]) {
            return None;
        }
        // Every allowed byte is ASCII, so this cannot fail.
        let s = std::str::from_utf8(value).ok()?;
        Some(CorrelationId(CorrelationText::new(s)))
    }

    /// Generates a new ID in `format` (a lowercase hyphenated UUID).
    ///
    /// ```
    /// use fapilog_axum::correlation::{CorrelationId, IdFormat};
    ///
    /// let id = CorrelationId::generate(IdFormat::default());
    /// assert_eq!(id.as_str().len(), 36);
    /// ```
    ///
    /// The random bits come from a fast thread-local generator (`fastrand`),
    /// not the OS: a correlation ID must be unique, not secret, and asking the
    /// kernel for randomness on every request cost a system call each.
    pub fn generate(format: IdFormat) -> CorrelationId {
        CorrelationId::generate_at(format, SystemTime::now())
    }

    /// [`generate`](Self::generate) with the clock read by the caller.
    pub(crate) fn generate_at(format: IdFormat, now: SystemTime) -> CorrelationId {
        let uuid = match format {
            IdFormat::UuidV7 => {
                let millis = now
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let mut random = [0u8; 10];
                fastrand::fill(&mut random);
                uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
            }
            IdFormat::UuidV4 => {
                let mut random = [0u8; 16];
                fastrand::fill(&mut random);
                uuid::Builder::from_random_bytes(random).into_uuid()
            }
        };
        let mut buf = Uuid::encode_buffer();
        CorrelationId(CorrelationText::new(
            uuid.hyphenated().encode_lower(&mut buf),
        ))
    }

    /// The ID as a string slice.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The ID as stored, for binding to a context without another UTF-8 check.
    pub(crate) fn as_text(&self) -> &CorrelationText {
        &self.0
    }

    /// The ID as a shared string (copied unless it was long enough to be shared already).
    pub fn into_arc(self) -> Arc<str> {
        self.0.into_arc()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for CorrelationId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// How new correlation IDs are generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdFormat {
    /// UUID version 7 (time-ordered, sorts by creation time). The default.
    #[default]
    UuidV7,
    /// UUID version 4 (fully random).
    UuidV4,
}

/// Extracts the trace-id from a W3C `traceparent` header value.
///
/// The value must be `<version>-<trace-id>-<parent-id>-<flags>`: 2, 32, 16 and
/// 2 lowercase hex digits. Version `ff` is invalid; version `00` must be exactly
/// 55 bytes; a later version may carry more data after the 55th byte, which must
/// then start with `-`. An all-zero trace-id or parent-id is invalid. Uppercase
/// hex is rejected, as the W3C specification requires, so the returned trace-id
/// is always 32 lowercase hex digits.
///
/// ```
/// use fapilog_axum::correlation::from_traceparent;
///
/// let id = from_traceparent(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(id.as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(from_traceparent(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
/// ```
pub fn from_traceparent(value: &[u8]) -> Option<CorrelationId> {
    const LEN: usize = 55;
    if value.len() < LEN {
        return None;
    }
    let version = &value[0..2];
    let trace_id = &value[3..35];
    let parent_id = &value[36..52];
    let flags = &value[53..55];
    let well_formed = is_lower_hex(version)
        && value[2] == b'-'
        && is_lower_hex(trace_id)
        && value[35] == b'-'
        && is_lower_hex(parent_id)
        && value[52] == b'-'
        && is_lower_hex(flags);
    if !well_formed || version == b"ff" {
        return None;
    }
    if version == b"00" && value.len() != LEN {
        return None;
    }
    if value.len() > LEN && value[LEN] != b'-' {
        return None;
    }
    if trace_id.iter().all(|&b| b == b'0') || parent_id.iter().all(|&b| b == b'0') {
        return None;
    }
    CorrelationId::parse(trace_id)
}

fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where a resolved correlation ID came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdSource {
    /// The configured header held a valid ID.
    Header,
    /// The trace-id of a valid `traceparent` header (only when enabled).
    Traceparent,
    /// Newly generated.
    Generated,
}

/// The correlation ID chosen for one request, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The ID to log and echo.
    pub id: CorrelationId,
    /// Where [`id`](Self::id) came from.
    pub source: IdSource,
    /// True when the configured header was present but invalid and so was
    /// discarded. The discarded value is not kept anywhere.
    pub replaced_invalid: bool,
}

/// How a request's correlation ID is chosen.
///
/// Precedence, in [`resolve`](Self::resolve):
///
/// 1. the first value of the configured header, if valid ([`CorrelationId::parse`]);
/// 2. if [`use_traceparent`](Self::use_traceparent) is on, the trace-id of a
///    valid `traceparent` header ([`from_traceparent`]);
/// 3. a newly generated ID in the configured [`IdFormat`].
///
/// If the header was present but invalid, steps 2 and 3 still apply and
/// [`Resolved::replaced_invalid`] is set.
#[derive(Clone, Debug)]
pub struct CorrelationConfig {
    header: HeaderName,
    id_format: IdFormat,
    use_traceparent: bool,
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            header: HeaderName::from_static(DEFAULT_HEADER),
            id_format: IdFormat::default(),
            use_traceparent: false,
        }
    }
}

impl CorrelationConfig {
    /// The defaults: header [`DEFAULT_HEADER`], [`IdFormat::UuidV7`], `traceparent` ignored.
    pub fn new() -> Self {
        Self::default()
    }

    /// The header to read the incoming ID from and echo it in. Default: [`DEFAULT_HEADER`].
    ///
    /// Header names are case-insensitive and stored lowercase.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `correlation.header` if `name` is not a valid
    /// HTTP header name.
    pub fn header(mut self, name: &str) -> Result<Self, ConfigError> {
        self.header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ConfigError::invalid(
                "correlation.header",
                format!("{name:?}"),
                "must be a valid HTTP header name (token characters, not empty)",
            )
        })?;
        Ok(self)
    }

    /// How new IDs are generated. Default: [`IdFormat::UuidV7`].
    #[must_use]
    pub fn id_format(mut self, format: IdFormat) -> Self {
        self.id_format = format;
        self
    }

    /// Whether to use the trace-id of a W3C `traceparent` header when the
    /// configured header is absent or invalid. A `traceparent` that is
    /// malformed, or sent more than once, is ignored. Default: `false`.
    #[must_use]
    pub fn use_traceparent(mut self, enabled: bool) -> Self {
        self.use_traceparent = enabled;
        self
    }

    /// The configured header name.
    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// The configured ID format.
    pub fn format(&self) -> IdFormat {
        self.id_format
    }

    /// Whether `traceparent` is used.
    pub fn traceparent_enabled(&self) -> bool {
        self.use_traceparent
    }

    /// Chooses the correlation ID for a request with these `headers`.
    pub fn resolve(&self, headers: &HeaderMap) -> Resolved {
        self.resolve_at(headers, SystemTime::now).0
    }

    /// [`resolve`](Self::resolve) with the request's start time, read only
    /// if an ID is generated (a v7 ID holds its millisecond). Also gives the
    /// header's value when it is the ID, to echo without a copy.
    #[inline]
    pub(crate) fn resolve_at<'h>(
        &self,
        headers: &'h HeaderMap,
        now: impl FnOnce() -> SystemTime,
    ) -> (Resolved, Option<&'h HeaderValue>) {
        let mut replaced_invalid = false;
        if let Some(value) = headers.get(&self.header) {
            match CorrelationId::parse(value.as_bytes()) {
                Some(id) => {
                    let resolved = Resolved {
                        id,
                        source: IdSource::Header,
                        replaced_invalid: false,
                    };
                    return (resolved, Some(value));
                }
                None => replaced_invalid = true,
            }
        }
        if self.use_traceparent {
            if let Some(id) = single(headers, TRACEPARENT_HEADER).and_then(from_traceparent) {
                let resolved = Resolved {
                    id,
                    source: IdSource::Traceparent,
                    replaced_invalid,
                };
                return (resolved, None);
            }
        }
        let resolved = Resolved {
            id: CorrelationId::generate_at(self.id_format, now()),
            source: IdSource::Generated,
            replaced_invalid,
        };
        (resolved, None)
    }
}

/// The value of header `name` when it is sent once: W3C Trace Context treats
/// a repeated `traceparent` as invalid (its test suite expects a new trace).
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h [u8]> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    values.next().is_none().then(|| first.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(bytes: &[u8]) {
        assert_eq!(CorrelationId::parse(bytes), None, "accepted {bytes:?}");
    }

    #[test]
    fn accepts_uuids_and_trace_ids() {
        for ok in [
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "0190f1e2-7a3b-7c4d-8e5f-0123456789ab",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "req-1",
            "a",
            "svc.name:req_1-2",
            "ABCxyz019",
        ] {
            let id = CorrelationId::parse(ok.as_bytes()).unwrap();
            assert_eq!(id.as_str(), ok);
            assert_eq!(id.to_string(), ok);
            assert_eq!(&*id.clone().into_arc(), ok);
        }
    }

    #[test]
    fn length_limits() {
        let max = "a".repeat(128);
        assert!(CorrelationId::parse(max.as_bytes()).is_some());
        rejected("a".repeat(129).as_bytes());
        rejected(b"");
    }

    #[test]
    fn rejects_injection_and_controls() {
        rejected(b"has space");
        rejected(b"abc\r\ndef");
        rejected(b"abc\n");
        rejected(b"\n{\"level\":\"ERROR\"}");
        rejected(b"\x1b[2J");
        rejected(b"a\x07b");
        rejected(b"a\x9bb");
        rejected(b"a\x7fb");
        rejected(b"a\tb");
        rejected(b"a\0b");
        rejected("a\u{2028}b".as_bytes());
        rejected(b"\xe2\x80\xa8");
        rejected(b"a\"b");
        rejected(b"a=b");
        rejected(b"a/b");
        rejected("caf\u{e9}".as_bytes());
        rejected(b"\xff\xfe");
        rejected(b"\xc3\x28");
        for b in 0x80..=0xffu8 {
            rejected(&[b'a', b]);
        }
        for b in 0..0x20u8 {
            rejected(&[b'a', b]);
        }
    }

    #[test]
    fn generated_ids_are_valid_v7_by_default() {
        for _ in 0..100 {
            let id = CorrelationId::generate(IdFormat::default());
            assert!(CorrelationId::parse(id.as_str().as_bytes()).is_some());
            let uuid = Uuid::parse_str(id.as_str()).unwrap();
            assert_eq!(uuid.get_version_num(), 7);
            // The version nibble sits at character 14 of the hyphenated form.
            assert_eq!(id.as_str().as_bytes()[14], b'7');
            assert_eq!(id.as_str(), id.as_str().to_ascii_lowercase());
        }
        let v4 = CorrelationId::generate(IdFormat::UuidV4);
        assert!(CorrelationId::parse(v4.as_str().as_bytes()).is_some());
        assert_eq!(Uuid::parse_str(v4.as_str()).unwrap().get_version_num(), 4);
    }

    #[test]
    fn ids_on_both_sides_of_the_inline_limit_round_trip() {
        use fapilog_core::INLINE_ID_LEN;
        use std::collections::HashSet;
        for len in [
            1,
            36,
            INLINE_ID_LEN - 1,
            INLINE_ID_LEN,
            INLINE_ID_LEN + 1,
            MAX_LEN,
        ] {
            let text = "a".repeat(len);
            let id = CorrelationId::parse(text.as_bytes()).unwrap();
            assert_eq!(id.as_str(), text);
            assert_eq!(&*id.clone().into_arc(), text);
            assert_eq!(format!("{id}"), text);
            assert_eq!(format!("{id:?}"), format!("CorrelationId({text:?})"));
            let same = CorrelationId::parse(text.as_bytes()).unwrap();
            assert_eq!(id, same);
            assert!(HashSet::from([id.clone()]).contains(&same));
            let other = format!("{}b", &text[1..]);
            assert_ne!(id, CorrelationId::parse(other.as_bytes()).unwrap());
        }
    }

    #[test]
    fn traceparent_vectors() {
        let good = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            from_traceparent(good).unwrap().as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        // A later version may carry more fields.
        assert!(
            from_traceparent(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")
                .is_some()
        );
        assert!(
            from_traceparent(b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").is_some()
        );
        for bad in [
            &b""[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            b"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            b"0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert_eq!(from_traceparent(bad), None, "accepted {bad:?}");
        }
    }

    #[test]
    fn invalid_header_name_is_a_config_error() {
        for bad in ["", "x request id", "x-id\n", "caf\u{e9}", "a:b"] {
            let err = CorrelationConfig::new().header(bad).unwrap_err();
            assert_eq!(err.setting(), "correlation.header");
        }
        let config = CorrelationConfig::new().header("X-Correlation-ID").unwrap();
        assert_eq!(config.header_name().as_str(), "x-correlation-id");
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        map
    }

    const TP: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn resolve_precedence() {
        let plain = CorrelationConfig::new();
        let tp = CorrelationConfig::new().use_traceparent(true);

        let r = plain.resolve(&headers(&[("x-request-id", b"req-1"), ("traceparent", TP)]));
        assert_eq!(
            (r.id.as_str(), r.source, r.replaced_invalid),
            ("req-1", IdSource::Header, false)
        );
        let r = tp.resolve(&headers(&[("x-request-id", b"req-1"), ("traceparent", TP)]));
        assert_eq!((r.id.as_str(), r.source), ("req-1", IdSource::Header));

        let r = tp.resolve(&headers(&[("traceparent", TP)]));
        assert_eq!(
            (r.id.as_str(), r.source, r.replaced_invalid),
            (TRACE_ID, IdSource::Traceparent, false)
        );
        let r = plain.resolve(&headers(&[("traceparent", TP)]));
        assert_eq!((r.source, r.replaced_invalid), (IdSource::Generated, false));

        let r = plain.resolve(&HeaderMap::new());
        assert_eq!((r.source, r.replaced_invalid), (IdSource::Generated, false));
        assert_eq!(Uuid::parse_str(r.id.as_str()).unwrap().get_version_num(), 7);

        let v4 = CorrelationConfig::new().id_format(IdFormat::UuidV4);
        let r = v4.resolve(&HeaderMap::new());
        assert_eq!(Uuid::parse_str(r.id.as_str()).unwrap().get_version_num(), 4);
    }

    #[test]
    fn invalid_header_is_replaced_never_echoed() {
        let plain = CorrelationConfig::new();
        let tp = CorrelationConfig::new().use_traceparent(true);
        // HeaderValue admits obs-text (0x80-0xFF) and spaces; parse rejects them.
        let evil: &[u8] = b"x\xff {\"level\":\"ERROR\"}";

        let r = plain.resolve(&headers(&[("x-request-id", evil)]));
        assert_eq!((r.source, r.replaced_invalid), (IdSource::Generated, true));
        assert!(!r.id.as_str().contains("level"));

        let r = tp.resolve(&headers(&[("x-request-id", evil), ("traceparent", TP)]));
        assert_eq!(
            (r.id.as_str(), r.source, r.replaced_invalid),
            (TRACE_ID, IdSource::Traceparent, true)
        );

        let r = tp.resolve(&headers(&[
            ("x-request-id", evil),
            ("traceparent", b"garbage"),
        ]));
        assert_eq!((r.source, r.replaced_invalid), (IdSource::Generated, true));
    }

    #[test]
    fn multiple_header_values_use_the_first() {
        let plain = CorrelationConfig::new();
        let r = plain.resolve(&headers(&[
            ("x-request-id", b"first"),
            ("x-request-id", b"second"),
        ]));
        assert_eq!(r.id.as_str(), "first");

        let r = plain.resolve(&headers(&[
            ("x-request-id", b"bad one"),
            ("x-request-id", b"good"),
        ]));
        assert_eq!((r.source, r.replaced_invalid), (IdSource::Generated, true));
    }

    #[test]
    fn custom_header() {
        let config = CorrelationConfig::new().header("x-correlation-id").unwrap();
        let r = config.resolve(&headers(&[
            ("x-request-id", b"ignored"),
            ("x-correlation-id", b"mine"),
        ]));
        assert_eq!((r.id.as_str(), r.source), ("mine", IdSource::Header));
    }

    proptest::proptest! {
        #[test]
        fn parse_accepts_exactly_the_allowed_set(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..140)) {
            let expected = !bytes.is_empty()
                && bytes.len() <= MAX_LEN
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(b));
            let parsed = CorrelationId::parse(&bytes);
            proptest::prop_assert_eq!(parsed.is_some(), expected);
            if let Some(id) = parsed {
                proptest::prop_assert_eq!(id.as_str().as_bytes(), &bytes[..]);
            }
        }
    }
}
