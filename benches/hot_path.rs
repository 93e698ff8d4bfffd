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
#![allow(missing_docs, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::Criterion;
use fapilog::enrich::Enrichment;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::process::Redactor;
use fapilog::sink::{FileSink, NullSink};
use fapilog::{info, Level, Logger};
use serde::Serialize;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts heap allocations made by the current thread.
struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const CALLS: usize = 200_000;
const WARMUP: usize = 20_000;
const PACED_CALLS: usize = 50_000;
const PACED_INTERVAL: Duration = Duration::from_micros(10);
const THROUGHPUT_EVENTS: u64 = 1_000_000;
/// Big enough that the latency runs never wait for the consumer.
const ROOMY: usize = 262_144;
const PATH: &str = "/api/v1/orders";

/// One way of logging the event, set up fresh for each measurement.
trait Case {
    fn call(&mut self, i: u64);
    /// Waits until everything logged so far is written.
    fn finish(self: Box<Self>);
}

// ---- fapilog ----

struct Fapilog {
    log: Logger,
    guard: WriterGuard,
}

impl Fapilog {
    fn new(file: Option<&Path>, capacity: usize, policy: OverflowPolicy) -> Self {
        Fapilog::with(file, capacity, policy, true)
    }

    /// `stages: false` turns the writer-side stages that are on by default
    /// (redaction, enrichment) off, to show what they cost.
    fn with(file: Option<&Path>, capacity: usize, policy: OverflowPolicy, stages: bool) -> Self {
        let builder = Pipeline::builder().capacity(capacity).overflow(policy);
        let builder = if stages {
            builder
        } else {
            builder
                .redaction(Redactor::disabled())
                .enrichment(Enrichment::none())
        };
        let builder = match file {
            Some(path) => builder.sink(FileSink::builder(path).build().unwrap(), JsonFormat::new()),
            None => builder.sink(NullSink::new(), JsonFormat::new()),
        };
        let (pipeline, guard) = builder.build().unwrap();
        Fapilog {
            log: pipeline.logger(),
            guard,
        }
    }
}

impl Case for Fapilog {
    #[inline]
    fn call(&mut self, i: u64) {
        info!(
            self.log,
            "request handled",
            user_id = i,
            path = PATH,
            latency_ms = 12.5
        );
    }

    fn finish(self: Box<Self>) {
        let report = self.guard.shutdown(Duration::from_secs(120));
        assert_eq!(
            report.dropped + report.failed + report.undelivered,
            0,
            "{report}"
        );
    }
}

// ---- floor: an owned struct through a bounded crossbeam channel, serialized by a thread ----

#[derive(Serialize)]
struct FloorEvent {
    ts: u128,
    level: &'static str,
    msg: &'static str,
    user_id: u64,
    path: &'static str,
    latency_ms: f64,
}

struct Floor {
    tx: crossbeam_channel::Sender<FloorEvent>,
    consumer: std::thread::JoinHandle<()>,
}

impl Floor {
    fn new(file: Option<&Path>, capacity: usize) -> Self {
        let (tx, rx) = crossbeam_channel::bounded::<FloorEvent>(capacity);
        let mut out: Box<dyn Write + Send> = match file {
            Some(path) => Box::new(BufWriter::new(File::create(path).unwrap())),
            None => Box::new(std::io::sink()),
        };
        let consumer = std::thread::spawn(move || {
            for event in rx {
                serde_json::to_writer(&mut out, &event).unwrap();
                out.write_all(b"\n").unwrap();
            }
            out.flush().unwrap();
        });
        Floor { tx, consumer }
    }
}

impl Case for Floor {
    #[inline]
    fn call(&mut self, i: u64) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let event = FloorEvent {
            ts,
            level: "INFO",
            msg: "request handled",
            user_id: i,
            path: PATH,
            latency_ms: 12.5,
        };
        let _ = self.tx.send(event);
    }

    fn finish(self: Box<Self>) {
        drop(self.tx);
        self.consumer.join().unwrap();
    }
}

// ---- tracing + tracing-subscriber JSON + tracing-appender non_blocking (lossless) ----

struct Tracing {
    _default: tracing::subscriber::DefaultGuard,
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

impl Tracing {
    fn new(file: Option<&Path>, capacity: usize) -> Self {
        let out: Box<dyn Write + Send> = match file {
            Some(path) => Box::new(File::create(path).unwrap()),
            None => Box::new(std::io::sink()),
        };
        let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .buffered_lines_limit(capacity)
            .finish(out);
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .with_max_level(tracing::Level::INFO)
            .finish();
        Tracing {
            _default: tracing::subscriber::set_default(subscriber),
            _worker: worker,
        }
    }
}

impl Case for Tracing {
    #[inline]
    fn call(&mut self, i: u64) {
        tracing::info!(
            user_id = i,
            path = PATH,
            latency_ms = 12.5,
            "request handled"
        );
    }

    fn finish(self: Box<Self>) {
        // Dropping the worker guard flushes everything queued.
    }
}

// ---- measurements ----

struct Latency {
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
    allocs_per_call: f64,
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn measure_latency(mut case: Box<dyn Case>, calls: usize, pace: Option<Duration>) -> Latency {
    for i in 0..WARMUP {
        case.call(i as u64);
    }
    let mut samples = Vec::with_capacity(calls);
    let allocs_before = allocations();
    let mut next = Instant::now();
    for i in 0..calls {
        if let Some(interval) = pace {
            next += interval;
            while Instant::now() < next {
                std::hint::spin_loop();
            }
        }
        let start = Instant::now();
        case.call(black_box(i as u64));
        samples.push(start.elapsed().as_nanos() as u64);
    }
    let allocs = allocations() - allocs_before;
    case.finish();
    samples.sort_unstable();
    Latency {
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        p999: percentile(&samples, 0.999),
        max: *samples.last().unwrap(),
        allocs_per_call: allocs as f64 / calls as f64,
    }
}

fn timer_overhead() -> u64 {
    let mut samples: Vec<u64> = (0..CALLS)
        .map(|_| {
            let start = Instant::now();
            start.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    percentile(&samples, 0.5)
}

/// Events per second from the first call until the last event is in the file.
fn measure_throughput(make: impl FnOnce(&Path) -> Box<dyn Case>) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    let mut case = make(&path);
    let start = Instant::now();
    for i in 0..THROUGHPUT_EVENTS {
        case.call(i);
    }
    case.finish();
    let elapsed = start.elapsed();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count() as u64;
    let bytes_per_event = text.len() as u64 / lines.max(1);
    assert_eq!(lines, THROUGHPUT_EVENTS, "lost events");
    (
        THROUGHPUT_EVENTS as f64 / elapsed.as_secs_f64(),
        bytes_per_event,
    )
}

type Maker = fn(Option<&Path>, usize) -> Box<dyn Case>;

fn cases() -> Vec<(&'static str, Maker)> {
    vec![
        ("floor (crossbeam + serde_json)", |f, c| {
            Box::new(Floor::new(f, c))
        }),
        ("fapilog", |f, c| {
            let block = OverflowPolicy::Block {
                timeout: Duration::from_secs(60),
            };
            Box::new(Fapilog::new(f, c, block))
        }),
        ("fapilog, no redaction/enrichment", |f, c| {
            let block = OverflowPolicy::Block {
                timeout: Duration::from_secs(60),
            };
            Box::new(Fapilog::with(f, c, block, false))
        }),
        ("tracing non_blocking JSON", |f, c| {
            Box::new(Tracing::new(f, c))
        }),
    ]
}

fn report() {
    println!("\n## Per-call latency, {CALLS} calls after {WARMUP} warm-up (ns, timer included)");
    println!("timer overhead p50: {} ns", timer_overhead());
    println!("| case | p50 | p99 | p99.9 | max | allocs/call |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, make) in cases() {
        let l = measure_latency(make(None, ROOMY), CALLS, None);
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
        let l = measure_latency(make(None, ROOMY), PACED_CALLS, Some(PACED_INTERVAL));
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
            b.iter_custom(|iters| {
                let mut case = make(None, ROOMY);
                let start = Instant::now();
                for i in 0..iters {
                    case.call(black_box(i));
                }
                let elapsed = start.elapsed();
                case.finish();
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
