//! Shutdown drains everything accepted, within a deadline, and counts the rest.

mod support;

use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::FileSink;
use fapilog::{info, Level};
use support::harness::Harness;
use support::CaptureSink;

#[test]
fn shutdown_writes_everything_accepted_to_a_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (pipeline, guard) = Pipeline::builder()
        .capacity(100_000)
        .flush_interval(Duration::from_secs(60)) // nothing is written before the drain
        .batch_size(1_000_000)
        .sink(FileSink::builder(&path).build().unwrap(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    for n in 0..50_000u64 {
        info!(log, "queued", n);
    }
    let report = guard.shutdown(Duration::from_secs(30));
    assert!(!report.timed_out);
    assert_eq!(
        (
            report.written,
            report.dropped,
            report.failed,
            report.undelivered
        ),
        (50_000, 0, 0, 0)
    );
    let line = report.to_string();
    assert!(
        line.contains(": written 50000, dropped 0, failed 0, undelivered 0"),
        "{line}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 50_000);
    assert!(text.lines().last().unwrap().contains(r#""n":49999"#));
}

#[test]
fn dropping_the_guard_drains_too() {
    let (pipeline, guard, sink) = Harness::new().into_parts();
    let log = pipeline.logger();
    for _ in 0..1000 {
        log.info("x");
    }
    drop(guard);
    assert_eq!(sink.events().len(), 1000);
}

#[test]
fn events_after_shutdown_are_counted_never_a_panic() {
    let (pipeline, guard, sink) = Harness::new().into_parts();
    let log = pipeline.logger();
    log.info("before");
    guard.shutdown(Duration::from_secs(5));
    log.info("after");
    log.error("after, even errors");
    assert!(!pipeline.flush_timeout(Duration::from_secs(1)) || pipeline.metrics().in_flight() == 0);
    let m = pipeline.metrics();
    assert_eq!((m.submitted, m.written, m.dropped.shutdown), (3, 1, 2));
    assert!(m.is_balanced());
    assert_eq!(sink.events().len(), 1);
}

#[test]
fn a_stuck_sink_cannot_hold_shutdown_past_its_deadline() {
    let sink = CaptureSink::gated(); // never opened
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    log.error("taken by the writer");
    sink.wait_until_write_entered();
    for _ in 0..10 {
        log.info("still queued");
    }
    let waiting = pipeline.clone();
    let flush = std::thread::spawn(move || waiting.flush_timeout(Duration::from_secs(60)));
    // The sink is never let go: returning at all is the deadline at work.
    let report = guard.shutdown(Duration::from_millis(200));
    assert!(
        !flush.join().unwrap(),
        "a flush cut short by the drain is not a success"
    );
    assert!(report.timed_out);
    assert_eq!(report.metrics.dropped.deadline, 10);
    assert_eq!(report.undelivered, 1);
    assert_eq!(report.written, 0);
    assert_eq!(pipeline.metrics().submitted, 11);
    let line = report.to_string();
    assert!(
        line.ends_with(
            ": written 0, dropped 10 (deadline 10), failed 0, undelivered 1 (deadline missed)"
        ),
        "{line}"
    );
}

/// A sink whose `Drop` waits until the test lets it go (or a minute passes).
struct SlowToDrop(std::sync::mpsc::Receiver<()>);

impl fapilog::sink::Sink for SlowToDrop {
    fn write(&mut self, _batch: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SlowToDrop {
    fn drop(&mut self) {
        let _ = self.0.recv_timeout(Duration::from_secs(60));
    }
}

#[test]
fn a_sink_slow_to_drop_cannot_hold_shutdown_past_its_deadline() {
    let (release, held) = std::sync::mpsc::channel();
    let (pipeline, guard) = Pipeline::builder()
        .sink(SlowToDrop(held), JsonFormat::new())
        .build()
        .unwrap();
    pipeline.logger().info("written before the sink is dropped");
    let report = guard.shutdown(Duration::from_millis(200));
    // Still in its `Drop` when shutdown returned: the deadline was kept.
    assert!(
        release.send(()).is_ok(),
        "shutdown waited for the sink's drop"
    );
    assert!(report.timed_out);
    assert_eq!((report.written, report.undelivered), (1, 0));
}

/// A sink whose `Drop` panics.
struct PanicsWhenDropped;

impl fapilog::sink::Sink for PanicsWhenDropped {
    fn write(&mut self, _batch: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("dropped");
    }
}

#[test]
fn a_sink_panicking_when_dropped_does_not_hold_shutdown() {
    let (pipeline, guard) = Pipeline::builder()
        .sink(PanicsWhenDropped, JsonFormat::new())
        .build()
        .unwrap();
    pipeline.logger().info("written before the sink is dropped");
    let report = guard.shutdown(Duration::from_secs(60));
    assert!(!report.timed_out, "{report:?}");
    assert_eq!((report.written, report.undelivered), (1, 0));
}

#[test]
fn flush_returns_once_everything_before_it_is_written() {
    let sink = CaptureSink::open();
    let (pipeline, _guard) = Pipeline::builder()
        .flush_interval(Duration::from_secs(60))
        .level(Level::Debug)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    for round in 1..=5u64 {
        for _ in 0..100 {
            log.debug("x");
        }
        assert!(pipeline.flush());
        assert_eq!(sink.events().len() as u64, round * 100);
        assert_eq!(pipeline.metrics().in_flight(), 0);
    }
}

#[test]
fn an_unbounded_wait_means_no_deadline_not_a_panic() {
    let (pipeline, guard, sink) = Harness::new().into_parts();
    let log = pipeline.logger();
    log.info("before the flush");
    assert!(pipeline.flush_timeout(Duration::MAX));
    log.info("before the shutdown");
    let report = guard.shutdown(Duration::MAX);
    assert!(!report.timed_out);
    assert_eq!((report.written, report.undelivered), (2, 0));
    assert_eq!(sink.events().len(), 2);
}
