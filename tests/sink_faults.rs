//! A failing or panicking sink is isolated and counted; the other sinks carry on.

mod support;

use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use support::{BrokenSink, CaptureSink};

fn run_with(broken: BrokenSink) {
    let good = CaptureSink::open();
    let (pipeline, guard) = Pipeline::builder()
        .sink(broken, JsonFormat::new())
        .sink(good.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    for round in 0..3 {
        for _ in 0..10 {
            log.info("x");
        }
        assert!(pipeline.flush(), "round {round}");
    }
    let report = guard.shutdown(Duration::from_secs(5));
    assert_eq!(good.events().len(), 30);
    let m = report.metrics;
    assert_eq!((m.submitted, m.written, m.failed), (30, 0, 30));
    assert!(m.is_balanced());
    let broken_metrics = &m.sinks[0];
    assert_eq!(broken_metrics.events_failed, 30);
    assert!(broken_metrics.errors + broken_metrics.panics >= 3);
    assert_eq!(m.sinks[1].errors + m.sinks[1].panics, 0);
    let text = m.to_prometheus();
    assert!(text.contains(&format!("sink=\"{}\"", broken_metrics.name)));
}

#[test]
fn an_erroring_sink_is_counted_and_isolated() {
    run_with(BrokenSink::Errors);
}

#[test]
fn a_panicking_sink_is_counted_and_isolated() {
    run_with(BrokenSink::Panics);
}
