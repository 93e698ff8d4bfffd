//! Hot path: fapilog against the physical floor and `tracing` + `tracing-appender`, in one run.
//!
//! `cargo bench --bench hot_path` runs criterion's per-call estimates, then a
//! report of per-call latency percentiles (each call timed on its own, after
//! warm-up), heap allocations per call on the calling thread, the same at a
//! paced 100k calls/s, and end-to-end throughput to a file. Every figure is
//! meant to be read as a ratio to the floor measured in the same run.
//!
//! The event everywhere: INFO "request handled" with `user_id: u64`,
//! `path: &str`, `latency_ms: f64`.
#![allow(missing_docs)]

#[path = "support/alloc_count.rs"]
mod alloc_count;
#[path = "support/cases.rs"]
mod cases;
#[path = "support/measure.rs"]
mod measure;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use cases::{Case, Fapilog, Floor, Tracing, TracingQueue, BLOCK, PATH};
use criterion::Criterion;
use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::NullSink;
use fapilog::{info, Level};
use measure::{measure_latency, timer_overhead, Latency};

const CALLS: usize = 200_000;
const WARMUP: usize = 20_000;
const PACED_CALLS: usize = 50_000;
const PACED_INTERVAL: Duration = Duration::from_micros(10);
const THROUGHPUT_EVENTS: u64 = 1_000_000;
/// Big enough that the latency runs never wait for the consumer.
const ROOMY: usize = 262_144;

/// Per-call latency of a fresh case; fapilog must not lose anything.
fn latency(case: Box<dyn Case>, calls: usize, pace: Option<Duration>) -> Latency {
    let l = measure_latency(case, WARMUP, calls, pace);
    if let Some(d) = l.delivery {
        assert_eq!(d.lost, 0, "lost events");
    }
    l
}

/// Events per second from the first call until the last event is in the file.
fn measure_throughput(make: impl FnOnce(&Path) -> Box<dyn Case>) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    let t = measure::measure_throughput(make(&path), 1, THROUGHPUT_EVENTS);
    let found = measure::count_events(&path, cases::MESSAGE);
    assert_eq!(found.events, THROUGHPUT_EVENTS, "lost events");
    (t.end_to_end_rate(THROUGHPUT_EVENTS), found.bytes_per_event)
}

type Maker = fn(Option<&Path>, usize) -> Box<dyn Case>;

fn cases() -> Vec<(&'static str, Maker)> {
    vec![
        ("floor (crossbeam + serde_json)", |f, c| {
            Box::new(Floor::new(f, c))
        }),
        ("fapilog", |f, c| Box::new(Fapilog::new(f, c, BLOCK))),
        ("fapilog, no redaction/enrichment", |f, c| {
            Box::new(Fapilog::with(f, c, BLOCK, false, Level::Info))
        }),
        ("tracing non_blocking JSON", |f, c| {
            Box::new(Tracing::new(f, TracingQueue::Lossless(c), false))
        }),
    ]
}

fn report() {
    println!("\n## Per-call latency, {CALLS} calls after {WARMUP} warm-up (ns, timer included)");
    println!("timer overhead p50: {} ns", timer_overhead(CALLS));
    println!("| case | p50 | p99 | p99.9 | max | allocs/call |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, make) in cases() {
        let l = latency(make(None, ROOMY), CALLS, None);
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} |",
            l.p50, l.p99, l.p999, l.max, l.allocs_per_call
        );
    }
    let (pipeline, guard) = Pipeline::builder()
        .level(Level::Warn)
        .sink(NullSink::new(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    let start = Instant::now();
    for i in 0..CALLS as u64 * 10 {
        info!(
            log,
            "request handled",
            user_id = black_box(i),
            path = PATH,
            latency_ms = 12.5
        );
    }
    drop(guard);
    let per_call = start.elapsed().as_secs_f64() * 1e9 / (CALLS as f64 * 10.0);
    println!("| fapilog, level disabled (mean of a loop) | {per_call:.2} | | | | |");

    println!("\n## Paced at 100k calls/s, {PACED_CALLS} calls (ns)");
    println!("| case | p50 | p99 | p99.9 | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, make) in cases() {
        let l = latency(make(None, ROOMY), PACED_CALLS, Some(PACED_INTERVAL));
        println!(
            "| {name} | {} | {} | {} | {} |",
            l.p50, l.p99, l.p999, l.max
        );
    }

    println!("\n## End to end, {THROUGHPUT_EVENTS} events to a file, one producer, lossless");
    println!("| case | events/s | bytes/event |");
    println!("|---|---:|---:|");
    for (name, make) in cases() {
        let (rate, bytes) = measure_throughput(|path| make(Some(path), 16_384));
        println!("| {name} | {:.0} | {bytes} |", rate);
    }
}

fn criterion_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group.bench_function("fapilog_disabled", |b| {
        let (pipeline, _guard) = Pipeline::builder()
            .level(Level::Warn)
            .sink(NullSink::new(), JsonFormat::new())
            .build()
            .unwrap();
        let log = pipeline.logger();
        b.iter(|| {
            info!(
                log,
                "request handled",
                user_id = black_box(7u64),
                path = PATH,
                latency_ms = 12.5
            )
        });
    });
    for (name, make) in cases() {
        group.bench_function(name, |b| {
            // A sample of more calls than the queue holds would time the
            // writer, not the call: each chunk gets a fresh, empty case.
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let chunk = (iters - done).min(ROOMY as u64 / 2);
                    let case = make(None, ROOMY);
                    let mut producer = case.producer();
                    let start = Instant::now();
                    for i in done..done + chunk {
                        producer.call(black_box(i));
                    }
                    elapsed += start.elapsed();
                    drop(producer);
                    case.finish();
                    done += chunk;
                }
                elapsed
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
    report();
}
