//! Events keep what was true at their call: bound context, caller data, errors.

mod support;

use std::fmt;
use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::{error, info, CapturedError, Level};
use support::CaptureSink;

fn pipeline() -> (Pipeline, fapilog::pipeline::WriterGuard, CaptureSink) {
    let sink = CaptureSink::open();
    let (pipeline, guard) = Pipeline::builder()
        .level(Level::Trace)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    (pipeline, guard, sink)
}

/// A JSON object with a key twice is ambiguous to its readers: one call
/// naming a field twice writes it once, with the value named last.
#[test]
fn a_field_named_twice_in_one_call_is_written_once() {
    let (pipeline, guard, sink) = pipeline();
    info!(pipeline.logger(), "twice", user = "ada", user = "grace");
    guard.shutdown(Duration::from_secs(5));
    let text = sink.text();
    assert_eq!(text.matches("\"user\"").count(), 1, "{text}");
    assert_eq!(sink.events()[0]["user"], "grace");
}

#[test]
fn each_event_has_the_context_of_its_call() {
    let (pipeline, guard, sink) = pipeline();
    let root = pipeline.logger();
    let a = root.bind("tenant", "a");
    info!(a, "first");
    let b = a.bind("tenant", "b").bind("user", 7u64);
    info!(b, "second");
    info!(a, "third");
    info!(root, "fourth");
    guard.shutdown(Duration::from_secs(5));

    let events = sink.events();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["tenant"], "a");
    assert_eq!(events[1]["tenant"], "b");
    assert_eq!(events[1]["user"], 7);
    assert_eq!(events[2]["tenant"], "a");
    assert!(events[2].get("user").is_none());
    assert!(events[3].get("tenant").is_none());
}

#[test]
fn caller_data_changed_after_the_call_does_not_change_the_event() {
    let (pipeline, guard, sink) = pipeline();
    let log = pipeline.logger();
    let mut name = String::from("before");
    let mut items = vec![1, 2];
    let long = "y".repeat(100);
    let mut long_owned = long.clone();
    info!(log, "captured", name = name.as_str(), items = ?items, long = long_owned.as_str());
    name.clear();
    name.push_str("after");
    items.push(3);
    long_owned.clear();
    guard.shutdown(Duration::from_secs(5));

    let event = &sink.events()[0];
    assert_eq!(event["name"], "before");
    assert_eq!(event["items"], "[1, 2]");
    assert_eq!(event["long"], long.as_str());
}

#[derive(Debug)]
struct Wrapped {
    msg: String,
    inner: Option<Box<Wrapped>>,
}

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.as_deref().map(|e| e as _)
    }
}

#[test]
fn error_chain_is_captured_before_the_error_is_dropped() {
    let (pipeline, guard, sink) = pipeline();
    let log = pipeline.logger();
    {
        let err = Wrapped {
            msg: "charge failed".into(),
            inner: Some(Box::new(Wrapped {
                msg: "gateway timeout".into(),
                inner: Some(Box::new(Wrapped {
                    msg: "connection reset".into(),
                    inner: None,
                })),
            })),
        };
        error!(log, "payment failed", error = &err, order_id = 42u64);
        error!(
            log,
            "with backtrace",
            error = CapturedError::new(&err).with_backtrace()
        );
    } // err dropped here, long before the writer formats the events
    guard.shutdown(Duration::from_secs(5));

    let events = sink.events();
    let e = &events[0]["error"];
    assert_eq!(e["message"], "charge failed");
    assert_eq!(
        e["chain"],
        serde_json::json!(["gateway timeout", "connection reset"])
    );
    assert!(e["type"].as_str().unwrap().ends_with("Wrapped"));
    assert!(e.get("backtrace").is_none());
    assert!(!events[1]["error"]["backtrace"].as_str().unwrap().is_empty());
}

#[test]
fn method_api_and_macros_write_the_same_fields() {
    let (pipeline, guard, sink) = pipeline();
    let log = pipeline.logger().with_correlation_id("req-9");
    let n = 3u64;
    info!(
        log,
        "macro",
        n,
        label = "x",
        ratio = 0.5,
        ok = true,
        "dotted.key" = 1
    );
    log.event(Level::Info, "method")
        .field("n", n)
        .field("label", "x")
        .field("ratio", 0.5)
        .field("ok", true)
        .field("dotted.key", 1)
        .emit();
    log.debug("plain debug");
    guard.shutdown(Duration::from_secs(5));

    let events = sink.events();
    for e in &events[..2] {
        assert_eq!(e["n"], 3);
        assert_eq!(e["label"], "x");
        assert_eq!(e["ratio"], 0.5);
        assert_eq!(e["ok"], true);
        assert_eq!(e["dotted.key"], 1);
        assert_eq!(e["correlation_id"], "req-9");
    }
    assert_eq!(events[0]["target"], module_path!());
    assert_eq!(events[2]["level"], "DEBUG");
}

#[test]
fn disabled_levels_evaluate_nothing_and_level_changes_at_run_time() {
    let (pipeline, guard, sink) = pipeline();
    pipeline.set_level(Level::Warn.into());
    let log = pipeline.logger();
    let mut evaluated = false;
    info!(
        log,
        "hidden",
        x = {
            evaluated = true;
            1
        }
    );
    assert!(!evaluated);
    pipeline.set_level(Level::Info.into());
    info!(log, "shown");
    guard.shutdown(Duration::from_secs(5));
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["msg"], "shown");
    assert_eq!(pipeline.metrics().submitted, 1);
}
