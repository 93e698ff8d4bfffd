//! What a full queue does under each policy, with a sink held closed.

mod support;

use std::time::Duration;

use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::{error, info, Logger};
use support::CaptureSink;

const CAPACITY: usize = 8;

fn stuck_pipeline(policy: OverflowPolicy) -> (Pipeline, WriterGuard, CaptureSink, Logger) {
    support::stuck_pipeline(CAPACITY, policy)
}

fn numbers(sink: &CaptureSink) -> Vec<u64> {
    sink.events()
        .iter()
        .filter_map(|e| e["n"].as_u64())
        .collect()
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_the_loss_in_band() {
    let (pipeline, guard, sink, log) = stuck_pipeline(OverflowPolicy::DropOldest);
    for n in 0..20u64 {
        info!(log, "e", n);
    }
    sink.open_gate();
    let report = guard.shutdown(Duration::from_secs(5));

    assert_eq!(numbers(&sink), (12..20).collect::<Vec<_>>());
    let loss = sink.loss_records();
    assert_eq!(loss.len(), 1);
    assert_eq!(loss[0]["level"], "WARN");
    assert_eq!(loss[0]["dropped"], 12);
    assert_eq!(loss[0]["reason"], "overflow");
    // seq 1 is "first"; e0..e11 carry seq 2..=13.
    assert_eq!(
        (loss[0]["first_seq"].as_u64(), loss[0]["last_seq"].as_u64()),
        (Some(2), Some(13))
    );
    let m = pipeline.metrics();
    assert_eq!((m.submitted, m.written, m.dropped.overflow), (21, 9, 12));
    assert!(m.is_balanced());
    assert_eq!(m.loss_records, 1);
    assert_eq!(report.dropped, 12);
}

#[test]
fn drop_newest_keeps_the_oldest() {
    let (pipeline, guard, sink, log) = stuck_pipeline(OverflowPolicy::DropNewest);
    for n in 0..20u64 {
        info!(log, "e", n);
    }
    sink.open_gate();
    guard.shutdown(Duration::from_secs(5));
    assert_eq!(numbers(&sink), (0..8).collect::<Vec<_>>());
    let loss = &sink.loss_records()[0];
    assert_eq!(
        (loss["first_seq"].as_u64(), loss["last_seq"].as_u64()),
        (Some(10), Some(21))
    );
    assert!(pipeline.metrics().is_balanced());
}

#[test]
fn block_times_out_then_counts_the_event_as_dropped() {
    let policy = OverflowPolicy::Block {
        timeout: Duration::from_millis(20),
    };
    let (pipeline, guard, sink, log) = stuck_pipeline(policy);
    for n in 0..10u64 {
        info!(log, "e", n);
    }
    sink.open_gate();
    guard.shutdown(Duration::from_secs(5));
    assert_eq!(numbers(&sink), (0..8).collect::<Vec<_>>());
    let m = pipeline.metrics();
    assert_eq!(m.dropped.block_timeout, 2);
    assert_eq!(sink.loss_records()[0]["reason"], "block_timeout");
    assert!(m.is_balanced());
}

#[test]
fn block_loses_nothing_when_the_writer_catches_up() {
    let policy = OverflowPolicy::Block {
        timeout: Duration::from_secs(30),
    };
    let (pipeline, guard, sink, log) = stuck_pipeline(policy);
    let producer = std::thread::spawn(move || {
        for n in 0..1000u64 {
            info!(log, "e", n);
        }
    });
    support::wait_until("the producer waits for room", || {
        support::a_producer_waits(&pipeline)
    });
    sink.open_gate();
    producer.join().unwrap();
    guard.shutdown(Duration::from_secs(5));
    assert_eq!(numbers(&sink), (0..1000).collect::<Vec<_>>());
    let m = pipeline.metrics();
    assert_eq!((m.written, m.dropped.total()), (1001, 0));
}

#[test]
fn errors_evict_info_events_instead_of_being_dropped() {
    let (pipeline, guard, sink, log) = stuck_pipeline(OverflowPolicy::DropNewest);
    for n in 0..CAPACITY as u64 {
        info!(log, "filler", n);
    }
    for n in 100..104u64 {
        error!(log, "important", n);
    }
    sink.open_gate();
    guard.shutdown(Duration::from_secs(5));
    let kept = numbers(&sink);
    assert_eq!(kept, [4, 5, 6, 7, 100, 101, 102, 103]);
    assert_eq!(pipeline.metrics().dropped.overflow, 4);
}

/// Producers blocked for room when shutdown closes the queue count their
/// events as dropped at shutdown, once: the writer's last batch does not also
/// count them as lost in flight (failed).
#[test]
fn producers_blocked_at_shutdown_are_counted_once() {
    use fapilog::sink::NullSink;
    for _ in 0..10 {
        let (pipeline, guard) = Pipeline::builder()
            .capacity(1)
            .batch_size(1)
            .overflow(OverflowPolicy::Block {
                timeout: Duration::from_secs(2),
            })
            .sink(NullSink::new(), fapilog::format::JsonFormat::new())
            .build()
            .unwrap();
        let producers: Vec<_> = (0..16)
            .map(|_| {
                let log = pipeline.logger();
                std::thread::spawn(move || {
                    for n in 0u64..20_000 {
                        info!(log, "busy", n = n);
                    }
                })
            })
            .collect();
        support::wait_until("a producer waits for room", || {
            support::a_producer_waits(&pipeline)
        });
        let report = guard.shutdown(Duration::from_secs(5));
        if !report.timed_out {
            // The producers woken by the drain have counted their events.
            assert_eq!(report.undelivered, 0, "{report:?}");
            assert!(report.metrics.is_balanced(), "{:?}", report.metrics);
        }
        for producer in producers {
            producer.join().unwrap();
        }
        let m = pipeline.metrics();
        assert_eq!(m.failed, 0, "{m:?}");
        assert!(m.is_balanced(), "{m:?}");
        assert_eq!(report.failed, 0);
    }
}
