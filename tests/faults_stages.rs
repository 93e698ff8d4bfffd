//! Faults inside the writer: a panicking processor or enricher fails only the
//! event it held, and the writer keeps running; a sink that blocks forever
//! blocks no producer under DropOldest/DropNewest, and the drain deadline
//! holds and reports what it could not write.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{OverflowPolicy, Pipeline};
use fapilog::process::{Emit, Processor};
use fapilog::{info, Logger, RawEvent};
use fapilog_testing::{MemorySink, TestApp};
use support::CaptureSink;

/// Panics on every event whose message is `"boom"`; passes the rest.
#[derive(Debug)]
struct Fragile;

impl Processor for Fragile {
    fn process(&mut self, event: RawEvent, _now: Instant, out: &mut Emit<'_>) {
        assert_ne!(event.message(), "boom", "processor hit a boom event");
        out.pass(event);
    }

    fn name(&self) -> &str {
        "fragile"
    }
}

/// Logs `ok` then `boom` alternately, `rounds` times each, flushing after each round.
fn alternate(pipeline: &Pipeline, rounds: u64) {
    let log = pipeline.logger();
    for n in 0..rounds {
        info!(log, "ok", n);
        info!(log, "boom", n);
        assert!(pipeline.flush());
    }
}

fn check_only_boom_failed(pipeline: &Pipeline, memory: &MemorySink, rounds: u64) {
    assert_eq!(memory.messages(), vec!["ok"; rounds as usize]);
    let m = pipeline.metrics();
    assert_eq!(
        (m.submitted, m.written, m.failed),
        (2 * rounds, rounds, rounds)
    );
    assert!(m.is_balanced(), "{m:?}");
    // The sink itself never failed: the loss is the stage's.
    assert_eq!(m.sinks[0].events_failed, 0);
}

#[test]
fn a_panicking_processor_fails_its_event_and_the_writer_keeps_running() {
    let memory = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(memory.clone(), JsonFormat::new())
        .processor(Fragile)
        .build()
        .unwrap();
    alternate(&pipeline, 5);
    check_only_boom_failed(&pipeline, &memory, 5);
    // Still running after the panics.
    alternate(&pipeline, 3);
    check_only_boom_failed(&pipeline, &memory, 8);
    assert!(!guard.shutdown(Duration::from_secs(5)).timed_out);
}

#[test]
fn a_panicking_enricher_fails_its_event_and_the_writer_keeps_running() {
    let memory = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(memory.clone(), JsonFormat::new())
        .enricher(|event: &mut RawEvent| {
            event.push_field("enriched", true);
            assert_ne!(event.message(), "boom", "enricher hit a boom event");
        })
        .build()
        .unwrap();
    alternate(&pipeline, 5);
    check_only_boom_failed(&pipeline, &memory, 5);
    // No half-enriched event got out, and the survivors are whole.
    assert!(memory
        .events()
        .iter()
        .all(|e| e.field("enriched") == Some(&serde_json::json!(true))));
    alternate(&pipeline, 3);
    check_only_boom_failed(&pipeline, &memory, 8);
    assert!(!guard.shutdown(Duration::from_secs(5)).timed_out);
}

/// Passes every event on, then panics on `"boom"` ones.
#[derive(Debug)]
struct PanicsAfterPassing;

impl Processor for PanicsAfterPassing {
    fn process(&mut self, event: RawEvent, _now: Instant, out: &mut Emit<'_>) {
        let boom = event.message() == "boom";
        out.pass(event);
        assert!(!boom, "processor panicked after passing a boom event");
    }
}

#[test]
fn an_event_passed_on_before_its_processor_panicked_is_written_not_also_failed() {
    let memory = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(memory.clone(), JsonFormat::new())
        .processor(PanicsAfterPassing)
        .build()
        .unwrap();
    alternate(&pipeline, 4);
    let report = guard.shutdown(Duration::from_secs(5));
    assert_eq!(memory.count(), 8);
    let m = &report.metrics;
    assert_eq!((m.submitted, m.written, m.failed), (8, 8, 0), "{m:?}");
    assert!(m.is_balanced());
}

/// Holds every event until a flush, where it panics instead of emitting them.
#[derive(Debug, Default)]
struct Hoarder {
    held: Vec<RawEvent>,
}

impl Processor for Hoarder {
    fn process(&mut self, event: RawEvent, _now: Instant, _out: &mut Emit<'_>) {
        self.held.push(event);
    }

    fn flush(&mut self, _out: &mut Emit<'_>) {
        panic!("hoarder lost {} events", self.held.len());
    }
}

#[test]
fn events_a_processor_held_when_it_panicked_are_counted_as_failed_at_shutdown() {
    let memory = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(memory.clone(), JsonFormat::new())
        .processor(Hoarder::default())
        .build()
        .unwrap();
    let log = pipeline.logger();
    for n in 0..10u64 {
        info!(log, "held", n);
    }
    assert!(pipeline.flush()); // the hoarder panics, keeping what it held
    for n in 10..15u64 {
        info!(log, "held", n);
    }
    let report = guard.shutdown(Duration::from_secs(5));
    assert!(!report.timed_out);
    assert!(memory.is_empty());
    let m = &report.metrics;
    assert_eq!((m.submitted, m.written, m.failed), (15, 0, 15), "{m:?}");
    assert!(m.is_balanced());
    assert_eq!(report.undelivered, 0);
}

const CAPACITY: usize = 64;
const THREADS: u64 = 4;
const PER_THREAD: u64 = 5_000;

/// Each producer thread logs its events and reports back; a producer that
/// blocks fails the test instead of hanging it.
fn producers_finish(pipeline: &Pipeline) {
    let (done, finished) = mpsc::channel();
    for p in 0..THREADS {
        let (log, done) = (pipeline.logger(), done.clone());
        std::thread::spawn(move || {
            for n in 0..PER_THREAD {
                info!(log, "e", p, n);
            }
            let _ = done.send(p);
        });
    }
    for _ in 0..THREADS {
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("a producer blocked on a stuck sink");
    }
}

#[test]
fn a_sink_that_blocks_forever_blocks_no_producer_and_the_drain_deadline_holds() {
    for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
        let (pipeline, guard, sink, _) = support::stuck_pipeline(CAPACITY, policy);
        producers_finish(&pipeline);
        let report = guard.shutdown(Duration::from_millis(200));
        let m = &report.metrics;
        let offered = 1 + THREADS * PER_THREAD;
        assert!(report.timed_out, "{policy:?}: {report}");
        // The stuck write holds one event; the full queue was abandoned at the deadline.
        assert_eq!(report.undelivered, 1, "{policy:?}: {report}");
        assert_eq!(m.dropped.deadline, CAPACITY as u64, "{policy:?}");
        assert_eq!(
            m.dropped.overflow,
            offered - 1 - CAPACITY as u64,
            "{policy:?}"
        );
        assert_eq!((m.submitted, m.written, m.failed), (offered, 0, 0));
        assert_eq!(
            m.submitted,
            m.written + m.dropped.total() + m.failed + report.undelivered,
            "{policy:?}: every event written, dropped, failed or still held"
        );
        let text = report.to_string();
        assert!(text.contains("undelivered 1"), "{text}");
        assert!(text.ends_with("(deadline missed)"), "{text}");
        assert!(sink.text().is_empty());
    }
}

async fn handler(log: Logger) -> &'static str {
    info!(log, "handling");
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_blocks_forever_blocks_no_request() {
    for policy in [OverflowPolicy::DropOldest, OverflowPolicy::DropNewest] {
        let sink = CaptureSink::gated();
        let held = sink.clone();
        let app = TestApp::builder(Router::new().route("/", get(handler)))
            .pipeline(move |b| {
                b.capacity(CAPACITY)
                    .overflow(policy)
                    .sink(held, JsonFormat::new())
            })
            .build()
            .unwrap();
        let requests = async {
            for _ in 0..500 {
                let res = app.get("/").await.unwrap();
                assert_eq!(res.status(), 200);
            }
        };
        tokio::time::timeout(Duration::from_secs(60), requests)
            .await
            .unwrap_or_else(|_| panic!("{policy:?}: a request blocked on a stuck sink"));
        let m = app.metrics();
        // Two events per request; the writer is stuck, so most overflowed.
        assert_eq!(m.submitted, 1000, "{policy:?}");
        assert!(
            m.dropped.overflow >= 1000 - 2 * CAPACITY as u64,
            "{policy:?}: {m:?}"
        );
        assert!(sink.text().is_empty());
        sink.open_gate(); // let the app's capture drain when it is dropped
    }
}
