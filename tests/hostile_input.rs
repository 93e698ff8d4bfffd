//! Hostile input: request IDs sent as raw bytes to a real server, and hostile
//! messages, keys and values, huge strings and huge field counts, in every
//! format. Nothing forges a line or reaches a terminal raw; what is too big is
//! cut with a marker and a count; memory stays bounded.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{Pipeline, WriterGuard, DEFAULT_MAX_FIELDS, FIELDS_TRUNCATED_KEY};
use fapilog::{info, Field, Level, Logger, RawEvent, Value};
use fapilog_axum::FapilogLayer;
use serde_json::Value as Json;
use support::server::{get as http_get, serve};
use support::CaptureSink;

/// Tests here that allocate a lot run one at a time, so RSS readings mean something.
static HEAVY: Mutex<()> = Mutex::new(());

/// Characters that must never reach the output raw (the escape module's set).
fn is_dangerous(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Every record is one line ending in `\n`, and holds no dangerous character raw.
#[track_caller]
fn assert_lines_clean(name: &str, text: &str, records: usize) {
    assert!(text.is_empty() || text.ends_with('\n'), "{name}");
    assert_eq!(
        text.matches('\n').count(),
        records,
        "{name}: one line per record"
    );
    for line in text.lines() {
        if let Some(c) = line.chars().find(|&c| is_dangerous(c)) {
            panic!("{name}: raw {c:?} in {line:?}");
        }
    }
}

/// Three sinks, one per format, behind one pipeline.
struct Outputs {
    pipeline: Pipeline,
    guard: Option<WriterGuard>,
    json: CaptureSink,
    logfmt: CaptureSink,
    pretty: CaptureSink,
}

impl Outputs {
    fn new() -> Self {
        let (pipeline, guard, [json, logfmt, pretty]) = support::three_formats();
        Outputs {
            pipeline,
            guard: Some(guard),
            json,
            logfmt,
            pretty,
        }
    }

    /// Asserts that no line of any format is `limit` bytes or longer.
    fn assert_lines_shorter_than(&self, limit: usize) {
        for (name, sink) in [
            ("json", &self.json),
            ("logfmt", &self.logfmt),
            ("pretty", &self.pretty),
        ] {
            let longest = sink.text().lines().map(str::len).max().unwrap();
            assert!(longest < limit, "{name}: a {longest}-byte line");
        }
    }

    /// Drains and checks that every record is exactly one clean line in every format.
    fn finish(&mut self) -> Vec<Json> {
        let report = self.guard.take().unwrap().shutdown(Duration::from_secs(30));
        assert_eq!(report.metrics.failed, 0);
        let written = usize::try_from(report.metrics.written).unwrap();
        assert_lines_clean("json", &self.json.text(), written);
        assert_lines_clean("logfmt", &self.logfmt.text(), written);
        assert_lines_clean("pretty", &self.pretty.text(), written);
        self.json.json_lines()
    }
}

/// The hostile strings of the issue, as text.
fn hostile_strings() -> Vec<String> {
    let mut all: Vec<String> = [
        "line\r\nforged=1",
        "\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
        "\u{1b}[2Jcleared",
        "bell\u{7}",
        "csi\u{9b}31m",
        "del\u{7f}",
        "sep\u{2028}para\u{2029}",
        "bidi\u{202e}txt.exe",
        "nul\u{0}byte",
        "",
        " ",
        "key=value \"quoted\" \\ back",
        "…[truncated 5 bytes]",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // U+0080–U+00FF: what bytes 0x80–0xFF become once they are text.
    all.push((0x80u32..=0xFF).filter_map(char::from_u32).collect());
    all
}

#[tokio::test]
async fn hostile_request_ids_are_replaced_counted_and_never_logged_raw() {
    let mut out = Outputs::new();
    let layer = FapilogLayer::builder()
        .pipeline(out.pipeline.clone())
        .build()
        .unwrap();
    async fn handler(log: Logger) -> &'static str {
        info!(log, "handled");
        "ok"
    }
    let app = Router::new().route("/", get(handler)).layer(layer);
    let (addr, stop, _) = serve(app).await;

    let long = vec![b'a'; 64 * 1024];
    let high: Vec<u8> = (0x80..=0xFF).collect();
    let hostile: Vec<&[u8]> = vec![
        b"\r\n",
        b"id\r\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
        b"\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
        b"\x1b[2J",
        b"\x07",
        "\u{9b}".as_bytes(),
        b"\x7f",
        "\u{2028}".as_bytes(),
        &long,
        &high,
        b"",
        b"ok\"},{\"level\":\"ERROR\"",
    ];
    let mut reached_layer = 0u64;
    for value in &hostile {
        let res = http_get(addr, "/", &[("x-request-id", value)]).await;
        match res.status {
            200 => {
                reached_layer += 1;
                let echoed = res.header("x-request-id").expect("an ID is echoed");
                assert_ne!(echoed.as_bytes(), *value);
                let uuid = uuid::Uuid::parse_str(echoed).expect("a fresh UUID");
                assert_eq!(uuid.get_version_num(), 7);
            }
            // hyper refuses some raw bytes before any layer runs.
            // hyper refuses raw controls (ESC, BEL, DEL, a bare line break
            // inside a header) with 400 before any layer runs.
            400 => assert!(res.header("x-request-id").is_none(), "{value:?}"),
            other => panic!("status {other} for {value:?}"),
        }
    }
    assert!(
        reached_layer >= 7,
        "only {reached_layer} hostile IDs reached the layer"
    );
    let metrics = out.pipeline.metrics();
    let replaced = metrics
        .extra
        .iter()
        .find(|c| c.name == "fapilog_correlation_ids_replaced_total")
        .map(|c| c.value);
    assert_eq!(replaced, Some(reached_layer));
    assert!(metrics.to_prometheus().contains(&format!(
        "\nfapilog_correlation_ids_replaced_total {reached_layer}\n"
    )));
    let _ = stop.send(());

    let events = out.finish();
    // Each request logged its event and its access line, under a generated ID.
    assert_eq!(events.len() as u64, 2 * reached_layer);
    for e in &events {
        let id = e["correlation_id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{e}");
        assert_ne!(e["level"], "ERROR", "a forged level: {e}");
    }
    for text in [out.json.text(), out.logfmt.text(), out.pretty.text()] {
        assert!(!text.contains(&"a".repeat(129)), "the long ID was logged");
        assert!(!text.contains("forged"), "an injected record was logged");
    }
}

#[test]
fn hostile_messages_keys_and_values_stay_one_escaped_line_in_every_format() {
    let mut out = Outputs::new();
    let log = out.pipeline.logger();
    let hostile = hostile_strings();
    for s in &hostile {
        let mut fields: Vec<Field> = vec![Field::new("v", s.as_str())];
        if !s.is_empty() {
            fields.push(Field::new(format!("k{s}"), 1u64));
        }
        fields.push(Field::new(
            "nested",
            Value::Map(
                vec![Field::new(
                    s.clone(),
                    Value::Seq(vec![s.as_str().into()].into()),
                )]
                .into(),
            ),
        ));
        let mut event = RawEvent::new(Level::Info, s.clone());
        for f in fields {
            event.push_field(f.key.as_str().to_owned(), f.value);
        }
        log.submit(event);
    }
    let events = out.finish();
    assert_eq!(events.len(), hostile.len());
    for (e, s) in events.iter().zip(&hostile) {
        assert_eq!(e["msg"], s.as_str());
        assert_eq!(e["v"], s.as_str());
        assert_eq!(e["nested"][s.as_str()][0], s.as_str());
        if !s.is_empty() {
            assert_eq!(e[format!("k{s}")], 1);
        }
    }
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn huge_strings_and_field_counts_are_cut_with_a_marker_and_a_count() {
    let _heavy = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Outputs::new();
    let log = out.pipeline.logger();
    const TEN_MB: usize = 10 * 1024 * 1024;
    let big = "é".repeat(TEN_MB / 2);
    let mut event = RawEvent::new(Level::Info, big.clone());
    event.push_field("value", big.as_str());
    event.push_field(format!("key{big}"), 1u64);
    log.submit(event);
    let mut many = RawEvent::new(Level::Info, "many fields");
    for n in 0..10_000u64 {
        many.push_field(format!("f{n}"), n);
    }
    log.submit(many);
    let events = out.finish();
    assert_eq!(events.len(), 2);

    let marker = |s: &str| -> (usize, usize) {
        let (kept, tail) = s.rsplit_once("…[truncated ").expect("a marker");
        let n = tail.strip_suffix(" bytes]").unwrap().parse().unwrap();
        (kept.len(), n)
    };
    let json_max = fapilog::format::DEFAULT_MAX_STRING_BYTES;
    let (kept, cut) = marker(events[0]["msg"].as_str().unwrap());
    assert!(kept <= json_max && kept + cut == TEN_MB, "{kept} + {cut}");
    let (kept, cut) = marker(events[0]["value"].as_str().unwrap());
    assert!(kept <= json_max && kept + cut == TEN_MB, "{kept} + {cut}");
    let key = events[0]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("key"))
        .unwrap();
    let (kept, cut) = marker(key);
    assert_eq!(kept + cut, TEN_MB + 3);
    assert!(kept <= fapilog::pipeline::DEFAULT_MAX_CAPTURE_BYTES);

    let fields = events[1].as_object().unwrap();
    let user: Vec<_> = fields
        .keys()
        .filter(|k| k.starts_with('f') && *k != FIELDS_TRUNCATED_KEY)
        .collect();
    assert_eq!(user.len(), DEFAULT_MAX_FIELDS);
    assert_eq!(fields["f0"], 0);
    assert_eq!(
        fields[FIELDS_TRUNCATED_KEY],
        (10_000 - DEFAULT_MAX_FIELDS) as u64
    );
    out.assert_lines_shorter_than(256 * 1024);
}

#[test]
fn huge_lists_and_maps_are_cut_like_fields() {
    let _heavy = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Outputs::new();
    let log = out.pipeline.logger();
    let big = "x".repeat(10 * 1024 * 1024);
    let entries: Vec<Field> = (0..10_000u64)
        .map(|n| Field::new(format!("k{n}"), n))
        .collect();
    let mut event = RawEvent::new(Level::Info, "nested");
    event.push_field("list", Value::Seq(Box::new([Value::from(big.as_str())])));
    event.push_field("map", Value::Map(entries.into_boxed_slice()));
    log.submit(event);
    let events = out.finish();

    let list = events[0]["list"].as_array().unwrap();
    let first = list[0].as_str().unwrap();
    assert!(
        first.len() < 128 * 1024 && first.ends_with(" bytes]"),
        "{}",
        first.len()
    );
    let map = events[0]["map"].as_object().unwrap();
    let budget = DEFAULT_MAX_FIELDS - 1; // the list took one element
    assert_eq!(map.len(), budget + 1);
    assert_eq!(map[FIELDS_TRUNCATED_KEY], (10_000 - budget) as u64);
    out.assert_lines_shorter_than(256 * 1024);
}

#[test]
fn huge_events_held_in_the_queue_keep_memory_bounded() {
    let _heavy = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    // The sink blocks, so every event stays queued: without the capture limit
    // 100 events of 10 MB would hold 1000 MB.
    let sink = CaptureSink::gated();
    let (pipeline, guard) = Pipeline::builder()
        .capacity(1024)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    let big = "x".repeat(10 * 1024 * 1024);
    let before = rss_kib("VmRSS:");
    for _ in 0..100 {
        log.submit(RawEvent::new(Level::Info, big.clone()));
    }
    let grown_mib = rss_kib("VmRSS:").saturating_sub(before) / 1024;
    assert!(
        grown_mib < 128,
        "RSS grew {grown_mib} MiB for 100 queued events"
    );
    sink.open_gate();
    let report = guard.shutdown(Duration::from_secs(30));
    assert_eq!(report.metrics.written, 100);
}
