//! fapilog-testing's fault injection: each mode shows in the pipeline's metrics,
//! the pipeline and the app carry on.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::OverflowPolicy;
use fapilog::{info, Level, Logger};
use fapilog_testing::{Faults, LogCapture, MemorySink, TestApp};

/// Logs `n` events numbered from `from`, each in its own write (flush after each).
fn one_per_write(capture: &LogCapture, from: u64, n: u64) {
    let log = capture.logger();
    for i in from..from + n {
        log.event(Level::Info, "event").field("i", i).emit();
        capture.flush().unwrap();
    }
}

fn seen(memory: &MemorySink) -> Vec<u64> {
    memory
        .events()
        .iter()
        .map(|e| e.field("i").unwrap().as_u64().unwrap())
        .collect()
}

#[test]
fn fail_after_accepts_exactly_n_events_then_fails_every_write() {
    let capture = LogCapture::builder()
        .faults(Faults::new().fail_after(5))
        .build()
        .unwrap();
    one_per_write(&capture, 0, 8);
    assert_eq!(seen(capture.sink()), [0, 1, 2, 3, 4]);
    let m = capture.metrics();
    assert_eq!((m.submitted, m.written, m.failed), (8, 5, 3));
    let sink = &m.sinks[0];
    assert_eq!(sink.name, "faulty:memory");
    assert_eq!((sink.errors, sink.panics, sink.events_failed), (3, 0, 3));
    assert!(m.is_balanced());
    assert!(m
        .to_prometheus()
        .contains("fapilog_sink_errors_total{sink=\"faulty:memory\"} 3\n"));
}

#[test]
fn fail_after_cuts_a_batch_at_the_limit() {
    let capture = LogCapture::builder()
        .faults(Faults::new().fail_after(5))
        .build()
        .unwrap();
    let log = capture.logger();
    for i in 0..20u64 {
        info!(log, "event", i);
    }
    let logs = capture.flush().unwrap();
    // However the writer batched them, exactly the first five reached the sink.
    assert_eq!(seen(logs), [0, 1, 2, 3, 4]);
    let m = capture.metrics();
    assert!(m.sinks[0].errors >= 1);
    // The five lines the sink took count as written, only the rest as failed.
    assert_eq!((m.written, m.failed), (5, 15));
    assert_eq!(m.sinks[0].events_failed, 15);
    assert!(m.is_balanced());
}

#[test]
fn fail_every_nth_write_loses_exactly_those_writes() {
    let capture = LogCapture::builder()
        .faults(Faults::new().fail_every(3))
        .build()
        .unwrap();
    one_per_write(&capture, 0, 9);
    assert_eq!(seen(capture.sink()), [0, 1, 3, 4, 6, 7]);
    let m = capture.metrics();
    assert_eq!((m.written, m.failed), (6, 3));
    assert_eq!((m.sinks[0].errors, m.sinks[0].events_failed), (3, 3));
    assert!(m.is_balanced());
}

#[test]
fn panic_every_nth_write_is_caught_counted_and_isolated() {
    let healthy = MemorySink::new();
    let other = healthy.clone();
    let capture = LogCapture::builder()
        .faults(Faults::new().panic_every(2))
        .pipeline(move |b| b.sink(other, JsonFormat::new()))
        .build()
        .unwrap();
    one_per_write(&capture, 0, 6);
    assert_eq!(seen(capture.sink()), [0, 2, 4]);
    assert_eq!(seen(&healthy), [0, 1, 2, 3, 4, 5]);
    let m = capture.metrics();
    let names: Vec<&str> = m.sinks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["memory", "faulty:memory"]);
    assert_eq!(
        (
            m.sinks[1].panics,
            m.sinks[1].errors,
            m.sinks[1].events_failed
        ),
        (3, 0, 3)
    );
    assert_eq!(m.sinks[0].panics + m.sinks[0].errors, 0);
    assert_eq!((m.written, m.failed), (3, 3));
    // The writer survived every panic.
    one_per_write(&capture, 6, 1);
    assert_eq!(seen(capture.sink()), [0, 2, 4, 6]);
}

#[test]
fn latency_slows_every_write_but_flush_waits_and_nothing_is_lost() {
    let capture = LogCapture::builder()
        .faults(Faults::new().latency(Duration::from_millis(2)))
        .pipeline(|b| {
            b.capacity(1).overflow(OverflowPolicy::Block {
                timeout: Duration::from_secs(60),
            })
        })
        .build()
        .unwrap();
    let log = capture.logger();
    for i in 0..25u64 {
        info!(log, "event", i); // blocks while the slow sink holds the queue full
    }
    let logs = capture.flush().unwrap();
    assert_eq!(seen(logs), (0..25).collect::<Vec<_>>());
    let m = capture.metrics();
    assert_eq!((m.written, m.dropped.total(), m.failed), (25, 0, 0));
    assert_eq!(m.sinks[0].errors + m.sinks[0].panics, 0);
    assert_eq!(logs.writes(), m.batches);
}

async fn handler(log: Logger) -> &'static str {
    info!(log, "handling");
    "ok"
}

#[tokio::test]
async fn an_app_keeps_answering_while_its_log_sink_is_broken() {
    for faults in [Faults::new().fail_after(0), Faults::new().panic_every(1)] {
        let app = TestApp::builder(Router::new().route("/", get(handler)))
            .faults(faults)
            .build()
            .unwrap();
        for _ in 0..5 {
            let res = app.get("/").await.unwrap();
            assert_eq!(res.status(), 200, "{faults:?}");
            assert_eq!(res.text().await.unwrap(), "ok");
        }
        let logs = app.flush().unwrap();
        assert!(logs.is_empty(), "{faults:?}");
        let m = app.metrics();
        // "handling" + the access log per request, all failed, none lost silently.
        assert_eq!(
            (m.submitted, m.failed, m.written),
            (10, 10, 0),
            "{faults:?}"
        );
        assert_eq!(m.sinks[0].events_failed, 10);
        assert!(m.sinks[0].errors + m.sinks[0].panics >= 1);
    }
}
