//! Round-trip and injection-safety properties of the JSON, logfmt and pretty
//! formats, alone and behind a pipeline (capture limits, then format limits).

use std::collections::BTreeMap;
use std::sync::Arc;

use fapilog_core::format::{
    ColorChoice, Format, JsonFormat, LogfmtFormat, PrettyFormat, DEFAULT_MAX_STRING_BYTES,
};
use fapilog_core::pipeline::Pipeline;
use fapilog_core::process::Redactor;
use fapilog_core::sink::MemorySink;
use fapilog_core::{
    CapturedError, Context, Envelope, Field, Level, RawEvent, SamplingTag, Value, RESERVED_KEYS,
};
use proptest::prelude::*;

/// Every character that must never appear raw in any output.
fn dangerous_chars() -> Vec<char> {
    let ranges: [(u32, u32); 7] = [
        (0x00, 0x1F),
        (0x7F, 0x9F),
        (0x2028, 0x2029),
        (0x061C, 0x061C),
        (0x200E, 0x200F),
        (0x202A, 0x202E),
        (0x2066, 0x2069),
    ];
    let mut v: Vec<char> = ranges
        .iter()
        .flat_map(|&(a, b)| (a..=b).filter_map(char::from_u32))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn is_dangerous(c: char) -> bool {
    dangerous_chars().binary_search(&c).is_ok()
}

/// Asserts `line` is one line ending in `\n`, with no dangerous character anywhere else.
fn assert_one_safe_line(line: &str) {
    let body = line
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no final newline: {line:?}"));
    let bad: Vec<char> = body.chars().filter(|&c| is_dangerous(c)).collect();
    assert!(bad.is_empty(), "raw dangerous chars {bad:?} in {line:?}");
}

/// Arbitrary strings, heavy on the characters that break naive encoders.
fn hostile_string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(
        dangerous_chars()
            .into_iter()
            .chain(['"', '\\', '=', ' ', '…', 'é', '🎉', '\u{FEFF}', '\u{200B}'])
            .collect::<Vec<_>>(),
    );
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![any::<char>(), tricky.clone()], 0..24)
            .prop_map(|cs| cs.into_iter().collect()),
        prop::collection::vec(tricky, 0..8).prop_map(|cs| cs.into_iter().collect()),
        "[a-z_]{1,8}",
    ]
}

/// Keys: hostile strings, plain names, reserved names and names with the logfmt prefixes.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => hostile_string(),
        1 => prop::sample::select(RESERVED_KEYS.to_vec()).prop_map(str::to_owned),
        1 => "(fields|error)\\.[a-z]{1,4}",
    ]
}

#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Str(s) => Value::from(s.as_str()),
            Scalar::Int(n) => Value::from(*n),
            Scalar::Bool(b) => Value::from(*b),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Scalar::Str(s) => serde_json::json!(s),
            Scalar::Int(n) => serde_json::json!(n),
            Scalar::Bool(b) => serde_json::json!(b),
        }
    }

    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        4 => hostile_string().prop_map(Scalar::Str),
        1 => any::<i64>().prop_map(Scalar::Int),
        1 => any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn fields() -> impl Strategy<Value = BTreeMap<String, Scalar>> {
    prop::collection::btree_map(key(), scalar(), 0..6)
}

fn event(msg: &str, fields: &BTreeMap<String, Scalar>, correlation_id: Option<&str>) -> RawEvent {
    let mut event = RawEvent::new(Level::Info, msg.to_owned());
    for (k, v) in fields {
        event.push_field(k.clone(), v.value());
    }
    if let Some(id) = correlation_id {
        event.set_context(Arc::new(Context::new().with_correlation_id(id)));
    }
    event
}

fn encode(format: &mut impl Format, event: &RawEvent) -> String {
    let mut out = Vec::new();
    format.encode(&Envelope::new(event), &mut out);
    String::from_utf8(out).expect("encoders write UTF-8")
}

/// What a string of `s` becomes when cut to `max` bytes.
fn expected_cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated {} bytes]", &s[..end], s.len() - end)
}

// ---------------------------------------------------------------- logfmt parser

/// Reads a JSON string literal starting at `s[0] == '"'`; returns (decoded, rest).
fn take_quoted(s: &str) -> (String, &str) {
    let bytes = s.as_bytes();
    assert_eq!(bytes.first(), Some(&b'"'), "expected a quote in {s:?}");
    let mut i = 1;
    loop {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'"') => break,
            Some(_) => i += 1,
            None => panic!("unterminated string in {s:?}"),
        }
    }
    let literal = &s[..=i];
    let decoded: String = serde_json::from_str(literal)
        .unwrap_or_else(|e| panic!("not a JSON string literal {literal:?}: {e}"));
    (decoded, &s[i + 1..])
}

/// Reads a bare token up to one of `stops`; returns (token, rest).
fn take_bare<'a>(s: &'a str, stops: &[char]) -> (String, &'a str) {
    let end = s.find(|c| stops.contains(&c)).unwrap_or(s.len());
    assert!(end > 0, "empty bare token in {s:?}");
    let token = &s[..end];
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/@+-".contains(&b)),
        "bare token with unsafe chars: {token:?}"
    );
    (token.to_owned(), &s[end..])
}

/// Parses one logfmt line (bare or JSON-quoted keys and values, `=`, single spaces).
fn parse_logfmt(line: &str) -> Vec<(String, String)> {
    let mut rest = line.strip_suffix('\n').expect("final newline");
    assert!(!rest.contains('\n'));
    let mut pairs = Vec::new();
    loop {
        let (key, after_key) = if rest.starts_with('"') {
            take_quoted(rest)
        } else {
            take_bare(rest, &['='])
        };
        let after_eq = after_key.strip_prefix('=').expect("'=' after key");
        let (value, after_value) = if after_eq.starts_with('"') {
            take_quoted(after_eq)
        } else {
            take_bare(after_eq, &[' '])
        };
        pairs.push((key, value));
        if after_value.is_empty() {
            return pairs;
        }
        rest = after_value
            .strip_prefix(' ')
            .expect("one space between pairs");
    }
}

/// The logfmt key a user field is written under.
fn logfmt_key(key: &str) -> String {
    if RESERVED_KEYS.contains(&key) || key.starts_with("fields.") || key.starts_with("error.") {
        format!("fields.{key}")
    } else {
        key.to_owned()
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_round_trips_any_input(
        msg in hostile_string(),
        fields in fields(),
        cid in proptest::option::of(hostile_string()),
    ) {
        let ev = event(&msg, &fields, cid.as_deref());
        let line = encode(&mut JsonFormat::new(), &ev);
        assert_one_safe_line(&line);
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("invalid JSON {line:?}: {e}"));
        prop_assert_eq!(v["msg"].as_str(), Some(msg.as_str()));
        prop_assert_eq!(v["level"].as_str(), Some("INFO"));
        prop_assert_eq!(v["correlation_id"].as_str(), cid.as_deref());
        let mut reserved = 0;
        for (k, s) in &fields {
            if RESERVED_KEYS.contains(&k.as_str()) {
                reserved += 1;
                prop_assert_eq!(&v["fields"][k], &s.json(), "reserved {:?} in {}", k, line);
            } else {
                prop_assert_eq!(&v[k], &s.json(), "field {:?} in {}", k, line);
            }
        }
        prop_assert_eq!(v.get("fields").is_some(), reserved > 0);
    }

    #[test]
    fn json_truncates_validly(msg in hostile_string(), value in hostile_string(), max in 0usize..24) {
        let mut ev = RawEvent::new(Level::Info, msg.clone());
        ev.push_field("v", value.as_str());
        let mut format = JsonFormat::new().max_string_bytes(max);
        let line = encode(&mut format, &ev);
        assert_one_safe_line(&line);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(v["msg"].as_str().unwrap(), expected_cut(&msg, max));
        prop_assert_eq!(v["v"].as_str().unwrap(), expected_cut(&value, max));
    }

    #[test]
    fn json_floats(x in any::<f64>()) {
        let mut ev = RawEvent::new(Level::Info, "f");
        ev.push_field("x", x);
        ev.set_sampling(SamplingTag { sampled: true, sample_rate: x, promoted: false });
        let line = encode(&mut JsonFormat::new(), &ev);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for got in [&v["x"], &v["sample_rate"]] {
            if x.is_nan() {
                prop_assert_eq!(got, "NaN");
            } else if x.is_infinite() {
                prop_assert_eq!(got, if x > 0.0 { "inf" } else { "-inf" });
            } else {
                let back = got.as_f64().unwrap();
                // serde_json's default parser can be an ulp off; for
                // subnormals an ulp is far more than 1e-15 relative.
                let ulp = f64::from_bits(1);
                let tolerance = (x.abs() * 1e-15).max(2.0 * ulp);
                prop_assert!((back - x).abs() <= tolerance, "{} vs {}", back, x);
            }
        }
    }

    #[test]
    fn logfmt_round_trips_any_input(
        msg in hostile_string(),
        fields in fields(),
        cid in proptest::option::of(hostile_string()),
    ) {
        let ev = event(&msg, &fields, cid.as_deref());
        let line = encode(&mut LogfmtFormat::new(), &ev);
        assert_one_safe_line(&line);
        let pairs = parse_logfmt(&line);
        let mut expected = vec![
            ("level".to_owned(), "INFO".to_owned()),
            ("msg".to_owned(), msg.clone()),
        ];
        if let Some(id) = &cid {
            expected.push(("correlation_id".to_owned(), id.clone()));
        }
        for (k, s) in &fields {
            expected.push((logfmt_key(k), s.text()));
        }
        prop_assert_eq!(&pairs[0].0, "ts");
        prop_assert_eq!(&pairs[1..], &expected[..], "line: {}", line);
    }

    #[test]
    fn logfmt_truncates_validly(msg in hostile_string(), max in 0usize..24) {
        let ev = RawEvent::new(Level::Info, msg.clone());
        let line = encode(&mut LogfmtFormat::new().max_string_bytes(max), &ev);
        assert_one_safe_line(&line);
        let pairs = parse_logfmt(&line);
        prop_assert_eq!(&pairs[2].1, &expected_cut(&msg, max));
    }

    #[test]
    fn pretty_is_one_clean_line(
        msg in hostile_string(),
        fields in fields(),
        cid in proptest::option::of(hostile_string()),
        err in proptest::option::of((hostile_string(), prop::collection::vec(hostile_string(), 0..3))),
    ) {
        let mut ev = event(&msg, &fields, cid.as_deref());
        if let Some((message, chain)) = err {
            ev.set_error(CapturedError::from_parts("E", message, chain));
        }
        let line = encode(&mut PrettyFormat::new().color(ColorChoice::Never), &ev);
        let body = line.strip_suffix('\n').expect("final newline");
        prop_assert!(body.bytes().all(|b| b >= 0x20 && b != 0x7F), "control byte in {:?}", line);
        assert_one_safe_line(&line);
    }
}

// ---------------------------------------------------------------- every dangerous char, every encoder

#[test]
fn no_dangerous_char_survives_any_encoder() {
    for c in dangerous_chars() {
        let mut ev = RawEvent::new(Level::Error, format!("msg{c}end"));
        ev.set_target(Box::leak(format!("tgt{c}").into_boxed_str()));
        ev.set_context(Arc::new(
            Context::new().with_correlation_id(format!("cid{c}").as_str()),
        ));
        ev.push_field(format!("key{c}"), format!("val{c}"));
        ev.push_field(format!("{c}"), format!("{c}"));
        ev.push_field("level", format!("{c}"));
        ev.push_field(
            "nested",
            Value::Seq(vec![Value::from(format!("{c}").as_str())].into_boxed_slice()),
        );
        ev.set_error(CapturedError::from_parts(
            "E",
            format!("err{c}"),
            vec![format!("src{c}")],
        ));
        let outputs = [
            encode(&mut JsonFormat::new(), &ev),
            encode(&mut LogfmtFormat::new(), &ev),
            encode(&mut PrettyFormat::new().color(ColorChoice::Never), &ev),
        ];
        for line in &outputs {
            assert_one_safe_line(line);
        }
        let v: serde_json::Value = serde_json::from_str(&outputs[0]).unwrap();
        assert_eq!(v["msg"], format!("msg{c}end"));
        assert_eq!(v[format!("key{c}")], format!("val{c}"));
        assert_eq!(v["fields"]["level"], format!("{c}"));
        assert_eq!(v["error"]["chain"][0], format!("src{c}"));
        let pairs = parse_logfmt(&outputs[1]);
        assert!(pairs.contains(&(format!("key{c}"), format!("val{c}"))));
    }
}

#[test]
fn default_limit_is_used() {
    let long = "x".repeat(DEFAULT_MAX_STRING_BYTES + 10);
    let ev = RawEvent::new(Level::Info, long);
    let line = encode(&mut JsonFormat::default(), &ev);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(v["msg"]
        .as_str()
        .unwrap()
        .ends_with("…[truncated 10 bytes]"));
}

// ---------------------------------------------------------------- nested values, and a pipeline in front

/// Lists and maps (hostile keys) of hostile strings, integers and booleans, with their JSON.
fn nested() -> impl Strategy<Value = (Value, serde_json::Value)> {
    let leaf = prop_oneof![
        hostile_string().prop_map(|s| (Value::from(s.as_str()), serde_json::json!(s))),
        any::<i64>().prop_map(|n| (Value::from(n), serde_json::json!(n))),
        any::<bool>().prop_map(|b| (Value::from(b), serde_json::json!(b))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                let (values, json): (Vec<_>, Vec<_>) = items.into_iter().unzip();
                (Value::Seq(values.into()), serde_json::Value::Array(json))
            }),
            prop::collection::btree_map(hostile_string(), inner, 0..4).prop_map(|map| {
                let fields: Vec<Field> = map
                    .iter()
                    .map(|(k, (v, _))| Field::new(k.clone(), v.clone()))
                    .collect();
                let json = map.into_iter().map(|(k, (_, j))| (k, j)).collect();
                (Value::Map(fields.into()), serde_json::Value::Object(json))
            }),
        ]
    })
}

/// A longer hostile string: several pieces joined.
fn long_hostile_string() -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_string(), 0..6).prop_map(|parts| parts.concat())
}

/// What the output holds for `s` cut to `capture` bytes when captured, then to `format` bytes.
fn expected_double_cut(s: &str, capture: usize, format: usize) -> String {
    if s.len() <= capture {
        return expected_cut(s, format);
    }
    let captured = expected_cut(s, capture);
    if captured.len() <= format {
        captured
    } else {
        expected_cut(s, capture.min(format))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nested_values_round_trip_and_stay_one_clean_line(
        (value, json) in nested(),
        key in key(),
    ) {
        let mut ev = RawEvent::new(Level::Info, "nested");
        ev.push_field(key.clone(), value);
        let line = encode(&mut JsonFormat::new(), &ev);
        assert_one_safe_line(&line);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let got = if RESERVED_KEYS.contains(&key.as_str()) { &v["fields"][&key] } else { &v[&key] };
        prop_assert_eq!(got, &json, "line: {}", line);

        let line = encode(&mut LogfmtFormat::new(), &ev);
        assert_one_safe_line(&line);
        let pairs = parse_logfmt(&line);
        let (_, text) = pairs.iter().find(|(k, _)| *k == logfmt_key(&key)).unwrap();
        let back: serde_json::Value = match (&json, text.as_str()) {
            // Scalars are written as themselves; strings come back as text.
            (serde_json::Value::String(_), t) => serde_json::json!(t),
            (_, t) => serde_json::from_str(t).unwrap(),
        };
        prop_assert_eq!(&back, &json, "line: {}", line);

        let line = encode(&mut PrettyFormat::new().color(ColorChoice::Never), &ev);
        let body = line.strip_suffix('\n').expect("final newline");
        prop_assert!(body.bytes().all(|b| b >= 0x20 && b != 0x7F), "control byte in {:?}", line);
        assert_one_safe_line(&line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn cuts_at_capture_then_in_the_format_count_every_byte_once(
        msg in long_hostile_string(),
        value in long_hostile_string(),
        capture in 1usize..48,
        format in 0usize..48,
    ) {
        let json = MemorySink::new();
        let logfmt = MemorySink::new();
        let (pipeline, guard) = Pipeline::builder()
            .redaction(Redactor::disabled())
            .max_string_bytes(capture)
            .sink(json.clone(), JsonFormat::new().max_string_bytes(format))
            .sink(logfmt.clone(), LogfmtFormat::new().max_string_bytes(format))
            .build()
            .unwrap();
        let mut ev = RawEvent::new(Level::Info, msg.clone());
        ev.push_field("v", value.as_str());
        pipeline.logger().submit(ev);
        drop(guard);

        let v: serde_json::Value = serde_json::from_str(&json.lines()[0]).unwrap();
        prop_assert_eq!(v["msg"].as_str().unwrap(), expected_double_cut(&msg, capture, format));
        prop_assert_eq!(v["v"].as_str().unwrap(), expected_double_cut(&value, capture, format));
        let pairs = parse_logfmt(&format!("{}\n", logfmt.lines()[0]));
        let msg_pair = pairs.iter().find(|(k, _)| k == "msg").unwrap();
        prop_assert_eq!(&msg_pair.1, &expected_double_cut(&msg, capture, format));
    }
}
