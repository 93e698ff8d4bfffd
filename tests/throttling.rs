//! Throttling through a running pipeline, refilled by a manual clock: no sleeps.

mod support;

use std::time::Duration;

use fapilog::clock::ManualClock;
use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::process::Throttle;
use fapilog::sink::MemorySink;
use fapilog::{error, warn};
use support::memory_json;

#[test]
fn one_warning_then_one_recovery_record_with_the_count() {
    let clock = ManualClock::new();
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .clock(clock.clone())
        .throttle(Throttle::new(2, 1.0))
        .build()
        .unwrap();
    let log = pipeline.logger();
    for i in 0..10u64 {
        warn!(log, "retrying", attempt = i);
    }
    error!(log, "never throttled");
    assert!(pipeline.flush());
    clock.advance(Duration::from_secs(1)); // one token back
    warn!(log, "retrying", attempt = 10u64);
    let report = guard.shutdown(Duration::from_secs(5));
    let out = memory_json(&sink);
    let summary: Vec<_> = out
        .iter()
        .map(|e| (e["msg"].as_str().unwrap(), e["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("retrying", "WARN"),
            ("retrying", "WARN"),
            ("events throttled", "WARN"),
            ("never throttled", "ERROR"),
            ("throttling ended", "INFO"),
            ("retrying", "WARN"),
        ]
    );
    let key = format!("{}/WARN", module_path!());
    assert_eq!(out[2]["throttle_key"], key.as_str());
    assert_eq!(out[2]["target"], "fapilog");
    assert_eq!(out[4]["throttle_key"], key.as_str());
    assert_eq!(out[4]["suppressed"], 8);
    assert_eq!(out[4]["reason"], "recovered");
    let m = report.metrics;
    assert_eq!(
        (
            m.submitted,
            m.written,
            m.dropped.throttled,
            m.throttle_records
        ),
        (12, 4, 8, 2)
    );
    assert!(m.is_balanced());
    assert!(m
        .to_prometheus()
        .contains("fapilog_events_dropped_total{reason=\"throttled\"} 8\n"));
}
