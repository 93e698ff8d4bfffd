//! Redaction is on by default and runs before any sink; what cannot be redacted is dropped and counted.

mod support;

use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::process::Redactor;
use fapilog::sink::MemorySink;
use fapilog::{info, Field, Level, RawEvent, Value};
use support::memory_json;

#[test]
fn secrets_are_redacted_at_any_depth_before_the_sink() {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger().bind("Authorization", "Bearer abc.def");
    let user = Value::Map(
        vec![
            Field::new("name", "ada"),
            Field::new(
                "credentials",
                Value::Map(vec![Field::new("apiKey", "k-1"), Field::new("kind", "svc")].into()),
            ),
        ]
        .into(),
    );
    let dsn = String::from("postgres://app:hunter2@db:5432/shop");
    let card = String::from("paid with 4242 4242 4242 4242");
    let not_a_card = String::from("order 4242424242424241");
    info!(
        log,
        "signup",
        user = user,
        dsn = dsn.as_str(),
        note = card.as_str(),
        other = not_a_card.as_str(),
        password = "pw"
    );
    let report = guard.shutdown(Duration::from_secs(5));
    assert_eq!(report.written, 1);
    let e = &memory_json(&sink)[0];
    assert_eq!(e["Authorization"], "[REDACTED]");
    assert_eq!(e["user"]["name"], "ada");
    assert_eq!(e["user"]["credentials"]["apiKey"], "[REDACTED]");
    assert_eq!(e["user"]["credentials"]["kind"], "svc");
    assert_eq!(e["dsn"], "postgres://app:[REDACTED]@db:5432/shop");
    assert_eq!(e["note"], "paid with [REDACTED]");
    assert_eq!(
        e["other"], "order 4242424242424241",
        "fails Luhn: left alone"
    );
    assert_eq!(e["password"], "[REDACTED]");
    assert!(!sink.text().contains("hunter2") && !sink.text().contains("k-1"));
}

#[test]
fn a_field_that_cannot_be_redacted_is_dropped_and_counted() {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let mut deep = Value::from("4242 4242 4242 4242".to_owned());
    for _ in 0..80 {
        deep = Value::Seq(vec![deep].into());
    }
    // A logger's event is cut to the formats' depth when it is captured (the
    // deep part becomes "…[too deep]"); submitted to the pipeline directly,
    // as a gate does, it reaches the redactor as it is.
    let mut event = RawEvent::new(Level::Info, "deep");
    event.push_field("blob", deep);
    event.push_field("kept", 1u64);
    pipeline.submit(event);
    let report = guard.shutdown(Duration::from_secs(5));
    let e = &memory_json(&sink)[0];
    assert!(
        e.get("blob").is_none(),
        "fail closed: the field is not written"
    );
    assert_eq!(e["kept"], 1);
    assert!(!sink.text().contains("4242"));
    assert_eq!(report.metrics.redaction_failures, 1);
    assert!(report
        .metrics
        .to_prometheus()
        .contains("fapilog_redaction_failures_total 1\n"));
}

#[test]
fn redaction_can_be_extended_or_turned_off() {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .redaction(Redactor::new().field("session_id").unwrap())
        .build()
        .unwrap();
    info!(pipeline.logger(), "a", session_id = "s-1", token = "t");
    guard.shutdown(Duration::from_secs(5));
    let e = &memory_json(&sink)[0];
    assert_eq!(
        (e["session_id"].as_str(), e["token"].as_str()),
        (Some("[REDACTED]"), Some("[REDACTED]"))
    );

    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .redaction(Redactor::disabled())
        .build()
        .unwrap();
    info!(pipeline.logger(), "a", token = "t");
    guard.shutdown(Duration::from_secs(5));
    assert_eq!(memory_json(&sink)[0]["token"], "t");
}
