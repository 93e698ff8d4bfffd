//! The conservation oracle: many producers (threads and tokio tasks) against a
//! sink that fails at random (errors, short writes, panics, stalls) and a full
//! queue under a random overflow policy. Every event is written exactly once
//! or counted as dropped or failed; the in-band loss records account for every
//! gap in `seq`; each producer's written events keep their order.
//!
//! A longer soak of the same oracle:
//! `PROPTEST_CASES=2000 cargo test --release --test conservation`.
//!
//! Two sinks see every batch: a healthy one, which receives every event that
//! was not dropped (the written and the failed ones) plus the loss records,
//! and a faulty one, which holds exactly the events counted as written.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::{DrainReport, OverflowPolicy, Pipeline};
use fapilog::{Level, Logger};
use fapilog_testing::{CapturedEvent, Faults, FaultySink, MemorySink};
use proptest::prelude::*;

/// One run's parameters, chosen by proptest.
#[derive(Debug, Clone)]
struct Scenario {
    threads: u64,
    tasks: u64,
    per_producer: u64,
    /// Every `error_every`th event of a producer is an ERROR (0: none).
    error_every: u64,
    /// Every `pace`th event a producer flushes the pipeline, so the writer
    /// makes many small writes (0: never).
    pace: u64,
    capacity: usize,
    batch_size: usize,
    policy: OverflowPolicy,
    faults: Faults,
}

fn policy() -> impl Strategy<Value = OverflowPolicy> {
    prop_oneof![
        Just(OverflowPolicy::DropOldest),
        Just(OverflowPolicy::DropNewest),
        (1u64..=3).prop_map(|ms| OverflowPolicy::Block {
            timeout: Duration::from_millis(ms)
        }),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    (0u64..=6, 0u64..=6, 0u64..=9, 0u64..=8, 0u64..=3).prop_map(
        |(fail, short, panic, stall, stall_ms)| {
            Faults::new()
                .fail_every(fail)
                .short_every(short)
                .panic_every(panic)
                .stall_every(stall, Duration::from_millis(stall_ms))
        },
    )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (0u64..=3, 0u64..=3, 20u64..=300, 0u64..=20, 0u64..=40),
        (1usize..=128, 1usize..=64, policy(), faults()),
    )
        .prop_filter("at least one producer", |((threads, tasks, ..), _)| {
            threads + tasks > 0
        })
        .prop_map(
            |(
                (threads, tasks, per_producer, error_every, pace),
                (capacity, batch_size, policy, faults),
            )| {
                Scenario {
                    threads,
                    tasks,
                    per_producer,
                    error_every,
                    pace,
                    capacity,
                    batch_size,
                    policy,
                    faults,
                }
            },
        )
}

/// Logs producer `p`'s event `n`: every `error_every`th one at ERROR; then
/// every `pace`th one flushes.
fn emit(pipeline: &Pipeline, log: &Logger, s: &Scenario, p: u64, n: u64) {
    let level = if s.error_every != 0 && n % s.error_every == 0 {
        Level::Error
    } else {
        Level::Info
    };
    log.event(level, "e").field("p", p).field("n", n).emit();
    if s.pace != 0 && n % s.pace == 0 {
        pipeline.flush_timeout(Duration::from_secs(10));
    }
}

/// Runs the scenario; returns the drain report, the healthy sink and the faulty sink's inside.
fn run(s: &Scenario) -> (DrainReport, MemorySink, MemorySink) {
    let healthy = MemorySink::new();
    let behind_faults = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .capacity(s.capacity)
        .batch_size(s.batch_size)
        .flush_interval(Duration::from_millis(1))
        .overflow(s.policy)
        .sink(healthy.clone(), JsonFormat::new())
        .sink(
            FaultySink::new(behind_faults.clone(), s.faults),
            JsonFormat::new(),
        )
        .build()
        .unwrap();
    let threads: Vec<_> = (0..s.threads)
        .map(|p| {
            let (pipeline, s) = (pipeline.clone(), s.clone());
            std::thread::spawn(move || {
                let log = pipeline.logger();
                (0..s.per_producer).for_each(|n| emit(&pipeline, &log, &s, p, n));
            })
        })
        .collect();
    if s.tasks > 0 {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..s.tasks)
                .map(|t| {
                    let (pipeline, s) = (pipeline.clone(), s.clone());
                    let log = pipeline.logger();
                    let p = s.threads + t;
                    tokio::spawn(async move {
                        // Interleave with the other tasks on the same workers.
                        for chunk in 0..s.per_producer.div_ceil(16) {
                            let from = chunk * 16;
                            for n in from..(from + 16).min(s.per_producer) {
                                emit(&pipeline, &log, &s, p, n);
                            }
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
    for thread in threads {
        thread.join().unwrap();
    }
    let report = guard.shutdown(Duration::from_secs(60));
    (report, healthy, behind_faults)
}

/// `(producer, n)` and `seq` of each user event, in written order.
fn written(events: &[CapturedEvent]) -> Vec<((u64, u64), u64)> {
    events
        .iter()
        .map(|e| {
            let p = e.field("p").and_then(|v| v.as_u64()).expect("p");
            let n = e.field("n").and_then(|v| v.as_u64()).expect("n");
            ((p, n), e.seq.expect("seq"))
        })
        .collect()
}

/// Written exactly once each, in `seq` order, and each producer's in `n` order.
fn check_once_and_ordered(what: &str, events: &[((u64, u64), u64)]) {
    let ids: HashSet<_> = events.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), events.len(), "{what}: an event written twice");
    assert!(
        events.windows(2).all(|w| w[0].1 < w[1].1),
        "{what}: seq out of order"
    );
    let mut last: HashMap<u64, u64> = HashMap::new();
    for ((p, n), _) in events {
        if let Some(prev) = last.insert(*p, *n) {
            assert!(prev < *n, "{what}: producer {p} wrote {n} after {prev}");
        }
    }
}

fn check(s: &Scenario, report: &DrainReport, healthy: &MemorySink, faulty: &MemorySink) {
    let producers = s.threads + s.tasks;
    let total = producers * s.per_producer;
    assert!(!report.timed_out, "{report}");
    let m = &report.metrics;

    // Every line is whole, in both sinks.
    assert!(
        healthy.unparsed_lines().is_empty(),
        "{:?}",
        healthy.unparsed_lines()
    );
    assert!(
        faulty.unparsed_lines().is_empty(),
        "{:?}",
        faulty.unparsed_lines()
    );

    let delivered = written(&healthy.events());
    let accepted = written(&faulty.events());
    check_once_and_ordered("healthy sink", &delivered);
    check_once_and_ordered("faulty sink", &accepted);

    // The faulty sink holds exactly the written events; the healthy one also the failed.
    let delivered_ids: HashSet<_> = delivered.iter().map(|(id, _)| *id).collect();
    assert!(accepted.iter().all(|(id, _)| delivered_ids.contains(id)));
    assert!(delivered_ids
        .iter()
        .all(|(p, n)| *p < producers && *n < s.per_producer));
    assert_eq!(m.submitted, total);
    assert_eq!(m.written, accepted.len() as u64, "written");
    assert_eq!(
        m.failed,
        (delivered.len() - accepted.len()) as u64,
        "failed"
    );
    assert_eq!(m.dropped.total(), total - delivered.len() as u64, "dropped");
    assert_eq!(
        m.dropped.overflow + m.dropped.block_timeout,
        m.dropped.total(),
        "only the queue drops here: {:?}",
        m.dropped
    );
    assert!(m.is_balanced(), "{m:?}");
    assert_eq!((report.written, report.failed), (m.written, m.failed));
    assert_eq!(report.dropped, m.dropped.total());
    assert_eq!(report.undelivered, 0);

    // The failures are the faulty sink's, counted per sink too.
    assert_eq!(m.sinks[0].errors + m.sinks[0].panics, 0);
    assert_eq!(m.sinks[1].events_failed, m.failed);

    // Every seq not written was dropped, and a loss record covers it with its reason.
    let seen: BTreeSet<u64> = delivered.iter().map(|(_, seq)| *seq).collect();
    assert!(seen.iter().all(|seq| (1..=total).contains(seq)));
    let gaps: Vec<u64> = (1..=total).filter(|seq| !seen.contains(seq)).collect();
    let losses: Vec<(String, u64, u64, u64)> = healthy
        .loss_records()
        .iter()
        .map(|r| {
            let num = |k: &str| r.field(k).and_then(|v| v.as_u64()).expect(k);
            let reason = r.field("reason").and_then(|v| v.as_str()).expect("reason");
            (
                reason.to_owned(),
                num("dropped"),
                num("first_seq"),
                num("last_seq"),
            )
        })
        .collect();
    let reported =
        |reason: &str| -> u64 { losses.iter().filter(|l| l.0 == reason).map(|l| l.1).sum() };
    assert_eq!(reported("overflow"), m.dropped.overflow, "{losses:?}");
    assert_eq!(
        reported("block_timeout"),
        m.dropped.block_timeout,
        "{losses:?}"
    );
    assert_eq!(gaps.len() as u64, m.dropped.total());
    for seq in &gaps {
        assert!(
            losses.iter().any(|l| (l.2..=l.3).contains(seq)),
            "seq {seq} missing without a loss record: {losses:?}"
        );
    }
    assert_eq!(m.loss_records, losses.len() as u64);
}

/// How many proptest cases to run: `PROPTEST_CASES`, else 24.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    // 24 cases by default (seconds in a debug build); `PROPTEST_CASES` sets more.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_event_is_written_once_or_counted_with_its_reason(s in scenario()) {
        let (report, healthy, faulty) = run(&s);
        check(&s, &report, &healthy, &faulty);
    }
}

/// One fixed heavy case, so every fault mode and every kind of loss surely
/// happens in each run, whatever proptest picks.
#[test]
fn every_fault_at_once_still_balances() {
    let s = Scenario {
        threads: 3,
        tasks: 3,
        per_producer: 400,
        error_every: 7,
        pace: 10,
        capacity: 16,
        batch_size: 8,
        policy: OverflowPolicy::DropOldest,
        faults: Faults::new()
            .fail_every(5)
            .short_every(3)
            .panic_every(7)
            .stall_every(4, Duration::from_millis(2)),
    };
    let (report, healthy, faulty) = run(&s);
    check(&s, &report, &healthy, &faulty);
    let m = &report.metrics;
    assert!(m.written > 0 && m.failed > 0, "{m:?}");
    assert!(
        m.sinks[1].errors > 0 && m.sinks[1].panics > 0,
        "{:?}",
        m.sinks
    );
}
