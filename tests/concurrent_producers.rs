//! Many producer threads: exact accounting, per-producer order, loss records that add up.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::info;
use fapilog::pipeline::{OverflowPolicy, Pipeline};
use support::CaptureSink;

const PRODUCERS: u64 = 8;
const PER_PRODUCER: u64 = 100_000;

fn run(
    policy: OverflowPolicy,
    capacity: usize,
) -> (fapilog::pipeline::MetricsSnapshot, CaptureSink) {
    let sink = CaptureSink::open();
    let (pipeline, guard) = Pipeline::builder()
        .capacity(capacity)
        .overflow(policy)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let threads: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let log = pipeline.logger().bind("producer", p);
            std::thread::spawn(move || {
                for n in 0..PER_PRODUCER {
                    info!(log, "tick", n);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let report = guard.shutdown(Duration::from_secs(60));
    assert!(!report.timed_out);
    (pipeline.metrics(), sink)
}

/// Per producer, the `n` values written, in the order they were written.
fn per_producer(sink: &CaptureSink) -> HashMap<u64, Vec<u64>> {
    let mut seen: HashMap<u64, Vec<u64>> = HashMap::new();
    for e in sink.events() {
        let p = e["producer"].as_u64().unwrap();
        seen.entry(p).or_default().push(e["n"].as_u64().unwrap());
    }
    seen
}

#[test]
fn block_policy_writes_every_event_once_in_producer_order() {
    let policy = OverflowPolicy::Block {
        timeout: Duration::from_secs(60),
    };
    let (m, sink) = run(policy, 4096);
    assert_eq!(m.submitted, PRODUCERS * PER_PRODUCER);
    assert_eq!(m.written, PRODUCERS * PER_PRODUCER);
    assert_eq!(m.dropped.total() + m.failed, 0);
    let seen = per_producer(&sink);
    assert_eq!(seen.len(), PRODUCERS as usize);
    for (p, ns) in seen {
        assert_eq!(ns, (0..PER_PRODUCER).collect::<Vec<_>>(), "producer {p}");
    }
}

#[test]
fn drop_oldest_accounts_exactly_and_keeps_order_among_survivors() {
    let (m, sink) = run(OverflowPolicy::DropOldest, 256);
    assert!(m.is_balanced(), "{m:?}");
    assert_eq!(m.submitted, PRODUCERS * PER_PRODUCER);
    assert_eq!(m.written + m.dropped.overflow, m.submitted);
    let seen = per_producer(&sink);
    let written: usize = seen.values().map(Vec::len).sum();
    assert_eq!(written as u64, m.written);
    for (p, ns) in &seen {
        assert!(
            ns.windows(2).all(|w| w[0] < w[1]),
            "producer {p} out of order"
        );
    }
    let reported: u64 = sink
        .loss_records()
        .iter()
        .map(|r| r["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, m.dropped.overflow);
}
