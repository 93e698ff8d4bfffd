//! Aggregation: volume reduction on a synthetic mix, the key cache's memory, and the cost per event.
//!
//! `cargo bench --bench aggregation` runs the aggregator by hand
//! (`ProcessorHarness`) on simulated time, so the figures do not depend on
//! the machine's speed except the cost per event. Memory is the heap in use
//! (bytes allocated minus bytes freed, all threads) while the cache is full.
#![allow(missing_docs, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fapilog::process::{Aggregator, ProcessorHarness};
use fapilog::{Context, Level, RawEvent};

/// Counts heap bytes in use.
struct CountingAllocator;

static IN_USE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a static atomic, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const SECONDS: u64 = 60;
const SYSTEM_TARGETS: [&str; 3] = ["sqlx::pool", "my_app::health", "my_app::metrics"];

/// One simulated second of logs, in the order they are logged.
fn second(t: u64, interleaved: bool) -> Vec<RawEvent> {
    let mut out = Vec::new();
    let ctx = |id: String| Arc::new(Context::new().with_correlation_id(id));
    let event = |level, target, msg: &'static str, ctx: Option<Arc<Context>>| {
        let mut e = RawEvent::new(level, msg);
        e.set_target(target);
        e.push_field("pool_size", 10u64);
        if let Some(c) = ctx {
            e.set_context(c);
        }
        e
    };
    // 50 requests a second; each checks out a connection 8 times and creates 2 orders.
    let requests: Vec<_> = (0..50).map(|r| ctx(format!("req-{t}-{r}"))).collect();
    let mut per_request: Vec<Vec<RawEvent>> = requests
        .iter()
        .map(|c| {
            let mut v: Vec<RawEvent> = (0..8)
                .map(|_| {
                    event(
                        Level::Debug,
                        "sqlx::pool",
                        "connection acquired",
                        Some(c.clone()),
                    )
                })
                .collect();
            v.push(event(
                Level::Info,
                "my_app::orders",
                "order created",
                Some(c.clone()),
            ));
            v.push(event(
                Level::Info,
                "my_app::orders",
                "payment captured",
                Some(c.clone()),
            ));
            v
        })
        .collect();
    for step in 0..100 {
        // Background pool maintenance and metrics, outside any request.
        for _ in 0..10 {
            out.push(event(
                Level::Debug,
                "sqlx::pool",
                "connection returned to idle",
                None,
            ));
        }
        out.push(event(
            Level::Debug,
            "my_app::metrics",
            "metric recorded",
            None,
        ));
        if step % 10 == 0 {
            // A health check is a request of its own: one event per correlation ID.
            out.push(event(
                Level::Info,
                "my_app::health",
                "health check completed",
                Some(ctx(format!("hc-{t}-{step}"))),
            ));
        }
        // Request events: one request after another, or all 50 interleaved.
        if interleaved {
            for r in &mut per_request {
                if !r.is_empty() && step % 2 == 0 {
                    out.push(r.remove(0));
                }
            }
        } else if step % 2 == 0 {
            let r = step / 2;
            out.append(&mut per_request[r]);
        }
    }
    for r in per_request {
        out.extend(r);
    }
    out
}

#[derive(Default)]
struct Volume {
    system_in: u64,
    system_out: u64,
    other_in: u64,
    other_out: u64,
}

fn is_system(e: &RawEvent) -> bool {
    e.target().is_some_and(|t| SYSTEM_TARGETS.contains(&t))
}

fn run_mix(interleaved: bool, flush_on_correlation_change: bool) -> Volume {
    let mut harness = ProcessorHarness::new(
        Aggregator::new(SYSTEM_TARGETS).flush_on_correlation_change(flush_on_correlation_change),
    );
    let t0 = Instant::now();
    let mut v = Volume::default();
    let count = |out: Vec<RawEvent>, v: &mut Volume| {
        for e in out {
            if is_system(&e) {
                v.system_out += 1;
            } else {
                v.other_out += 1;
            }
        }
    };
    for t in 0..SECONDS {
        let events = second(t, interleaved);
        let n = events.len() as u64;
        for (i, e) in events.into_iter().enumerate() {
            if is_system(&e) {
                v.system_in += 1;
            } else {
                v.other_in += 1;
            }
            let now =
                t0 + Duration::from_secs(t) + Duration::from_nanos(1_000_000_000 * i as u64 / n);
            harness.tick(now);
            harness.process(e, now);
        }
        count(harness.take_output(), &mut v);
    }
    harness.shutdown();
    count(harness.take_output(), &mut v);
    v
}

fn reduction(input: u64, output: u64) -> f64 {
    100.0 * (1.0 - output as f64 / input.max(1) as f64)
}

/// Heap in use while the cache holds `max_keys` groups of `threshold` events each.
fn cache_memory(max_keys: usize) -> (i64, usize) {
    let t0 = Instant::now();
    let messages: Vec<String> = (0..max_keys)
        .map(|i| format!("pool connection {i} acquired after retry"))
        .collect();
    let before = IN_USE.load(Ordering::Relaxed);
    let mut harness = ProcessorHarness::new(Aggregator::new(["sqlx::pool"]).max_keys(max_keys));
    let ctx =
        Arc::new(Context::new().with_correlation_id("req-7f3a9c1e-5b2d-4e8f-9a6b-1c2d3e4f5a6b"));
    for round in 0..5 {
        for m in &messages {
            let mut e = RawEvent::new(Level::Debug, m.clone());
            e.set_target("sqlx::pool");
            e.set_context(ctx.clone());
            e.push_field("pool_size", 10u64);
            e.push_field("wait_ms", 1.5);
            e.push_field("db", "orders-primary");
            harness.process(e, t0 + Duration::from_millis(round));
        }
    }
    assert!(harness.take_output().is_empty(), "everything is held");
    let held = harness.processor().groups();
    let used = IN_USE.load(Ordering::Relaxed) - before;
    drop(black_box(harness));
    (used, held)
}

fn cost_per_event() -> f64 {
    let events: Vec<RawEvent> = (0..5).flat_map(|t| second(t, false)).collect();
    let n = events.len();
    let mut harness = ProcessorHarness::new(Aggregator::new(SYSTEM_TARGETS));
    let now = Instant::now();
    let start = Instant::now();
    for e in events {
        harness.process(e, now);
    }
    harness.flush();
    let elapsed = start.elapsed();
    black_box(harness.take_output());
    elapsed.as_nanos() as f64 / n as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here
    }
    println!("\n## Aggregation: volume on a synthetic mix, {SECONDS} simulated seconds");
    println!("Per second: 1,000 background pool events and 100 metrics (no correlation ID),");
    println!("10 health checks (one event each, own correlation ID), 50 requests with 8 pool");
    println!("events and 2 business events each. Targets aggregated: {SYSTEM_TARGETS:?}.\n");
    println!(
        "| requests | flush_on_correlation_change | system in | system out | system reduction | business in | business out |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let cases = [
        ("one after another", false, true),
        ("all 50 interleaved", true, true),
        ("one after another", false, false),
        ("all 50 interleaved", true, false),
    ];
    for (name, interleaved, flush) in cases {
        let v = run_mix(interleaved, flush);
        println!(
            "| {name} | {flush} | {} | {} | {:.1}% | {} | {} |",
            v.system_in,
            v.system_out,
            reduction(v.system_in, v.system_out),
            v.other_in,
            v.other_out
        );
    }
    println!("\n## Aggregation: key cache memory when full (each group holds 5 events, 3 fields, a context)");
    println!("| max_keys | groups held | heap in use | per group |");
    println!("|---:|---:|---:|---:|");
    let mut sizes = BTreeMap::new();
    for keys in [1_000, 10_000] {
        let (bytes, held) = cache_memory(keys);
        sizes.insert(keys, bytes);
        println!(
            "| {keys} | {held} | {:.2} MB | {} B |",
            bytes as f64 / 1e6,
            bytes / held.max(1) as i64
        );
    }
    println!("\n## Aggregation: writer-side cost per event (mix, one after another)");
    let mut runs: Vec<f64> = (0..5).map(|_| cost_per_event()).collect();
    runs.sort_by(f64::total_cmp);
    println!("median of 5 runs: {:.0} ns/event", runs[2]);
}
