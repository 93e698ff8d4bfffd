//! Aggregation through a running pipeline, timed by a manual clock: no sleeps.

mod support;

use std::time::Duration;

use fapilog::clock::ManualClock;
use fapilog::config::Config;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{Pipeline, WriterGuard};
use fapilog::process::Aggregator;
use fapilog::sink::MemorySink;
use fapilog::{Level, Logger};
use serde_json::Value as Json;
use support::memory_json;

const POOL: &str = "sqlx::pool";

fn pipeline(clock: &ManualClock) -> (Pipeline, WriterGuard, MemorySink) {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .level(Level::Debug)
        .sink(sink.clone(), JsonFormat::new())
        .clock(clock.clone())
        .aggregation(Aggregator::new([POOL]))
        .build()
        .unwrap();
    (pipeline, guard, sink)
}

fn pool_event(log: &Logger, message: &'static str) {
    log.event(Level::Debug, message)
        .target(POOL)
        .field("size", 10u64)
        .emit();
}

#[test]
fn five_are_written_six_are_aggregated() {
    let clock = ManualClock::new();
    let (pipeline, guard, sink) = pipeline(&clock);
    let log = pipeline.logger();
    for _ in 0..5 {
        pool_event(&log, "five");
    }
    for _ in 0..6 {
        pool_event(&log, "six");
    }
    // Held until the window ends: the writer ticks once the clock passes it.
    clock.advance(Duration::from_secs(1));
    assert!(pipeline.flush());
    let out = memory_json(&sink);
    assert_eq!(out.len(), 6);
    assert!(out[..5]
        .iter()
        .all(|e| e["msg"] == "five" && e.get("aggregated").is_none()));
    let agg = &out[5];
    assert_eq!(
        (
            agg["msg"].as_str(),
            agg["aggregated"].as_bool(),
            agg["count"].as_u64()
        ),
        (Some("six"), Some(true), Some(6))
    );
    assert_eq!(agg["size"], 10, "the first occurrence's fields are kept");
    assert!(agg["first_seen"].as_str().unwrap() <= agg["last_seen"].as_str().unwrap());
    assert!(agg["window_s"].as_f64().unwrap() >= 0.0);
    let report = guard.shutdown(Duration::from_secs(5));
    let m = report.metrics;
    assert_eq!((m.submitted, m.written, m.dropped.aggregated), (11, 6, 5));
    assert!(m.is_balanced());
}

#[test]
fn correlation_ids_split_groups_and_shutdown_loses_nothing() {
    let clock = ManualClock::new();
    let (pipeline, guard, sink) = pipeline(&clock);
    let a = pipeline.logger().with_correlation_id("req-a");
    let b = pipeline.logger().with_correlation_id("req-b");
    for _ in 0..7 {
        pool_event(&a, "acquired");
    }
    for _ in 0..7 {
        pool_event(&b, "acquired");
    }
    let other = pipeline.logger();
    for _ in 0..20 {
        other
            .event(Level::Info, "business event")
            .target("my_app::orders")
            .emit();
    }
    let report = guard.shutdown(Duration::from_secs(5)); // no clock advance: the drain writes groups out
    let out = memory_json(&sink);
    let aggregated: Vec<_> = out
        .iter()
        .filter(|e| e["aggregated"] == true)
        .map(|e| {
            (
                e["correlation_id"].as_str().unwrap().to_owned(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        aggregated,
        [("req-a".to_owned(), 7), ("req-b".to_owned(), 7)]
    );
    assert_eq!(
        out.iter().filter(|e| e["msg"] == "business event").count(),
        20
    );
    assert_eq!(report.undelivered, 0);
    assert!(report.metrics.is_balanced());
    assert_eq!(report.metrics.dropped.aggregated, 12);
}

/// Two requests logging the same pool noise, interleaved, through a pipeline built from `Config`.
fn interleaved_requests(config: &Config) -> Vec<Json> {
    let sink = MemorySink::new();
    let (pipeline, guard) = config
        .pipeline_builder()
        .unwrap()
        .level(Level::Debug)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let a = pipeline.logger().with_correlation_id("req-a");
    let b = pipeline.logger().with_correlation_id("req-b");
    for _ in 0..6 {
        pool_event(&a, "acquired");
        pool_event(&b, "acquired");
    }
    let report = guard.shutdown(Duration::from_secs(5));
    assert!(report.metrics.is_balanced());
    memory_json(&sink)
}

#[test]
fn a_correlation_change_ends_the_group_unless_configured_otherwise() {
    let toml = "[aggregation]\nenabled = true\ntargets = [\"sqlx::pool\"]";
    let config = Config::from_toml_str(toml).unwrap();
    let out = interleaved_requests(&config);
    assert_eq!(out.len(), 12, "each event ends the other request's group");
    assert!(out.iter().all(|e| e.get("aggregated").is_none()));
    let ids: Vec<_> = out.iter().map(|e| e["correlation_id"].clone()).collect();
    assert_eq!(ids[..2], ["req-a", "req-b"]);

    let per_request = config
        .with_env([("FAPILOG_AGGREGATION__FLUSH_ON_CORRELATION_CHANGE", "false")])
        .unwrap();
    assert!(!per_request.aggregation.flush_on_correlation_change);
    let out = interleaved_requests(&per_request);
    let counts: Vec<_> = out
        .iter()
        .map(|e| (e["correlation_id"].clone(), e["count"].as_u64()))
        .collect();
    assert_eq!(
        counts,
        [("req-a".into(), Some(6)), ("req-b".into(), Some(6))]
    );
}
