//! fapilog side by side with the Rust loggers it is measured against, in one run.
//!
//! `cargo bench --bench compare` (or `benches/compare.sh`, which also runs the
//! middleware benches and draws the charts). The event everywhere: INFO
//! "request handled" with `user_id: u64`, `path: &str`, `latency_ms: f64`.
//!
//! Every measurement runs in a fresh child process of this binary
//! (`--child CASE MEASUREMENT`), so global loggers (`log`, `tracing`'s global
//! default) can be installed per case, and the peak resident memory of a
//! burst belongs to that case alone. Rounds are interleaved (every case once,
//! then again) and each figure is the median over the rounds.
//!
//! Environment: `FAPILOG_BENCH_QUICK=1` shrinks every count tenfold and runs
//! one round; `FAPILOG_BENCH_RUNS=N` sets the rounds (default 3);
//! `FAPILOG_BENCH_JSON=PATH` sets where the JSON goes (default
//! `docs/bench/compare.json`, or the temp dir when quick).
#![allow(missing_docs)]

#[path = "support/alloc_count.rs"]
mod alloc_count;
#[path = "support/cases.rs"]
mod cases;
#[path = "support/measure.rs"]
mod measure;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cases::{
    Case, Delivery, Fapilog, Floor, Producer, Tracing, TracingQueue, BLOCK, MESSAGE, PATH,
};
use fapilog::pipeline::{OverflowPolicy, DEFAULT_CAPACITY};
use fapilog::Level;
use serde::{Deserialize, Serialize};

/// Queue size of the configurable queues in the latency runs: no call waits
/// for the consumer.
const ROOMY: usize = 262_144;
/// Queue size of the configurable queues in the throughput runs (fapilog's default).
const THROUGHPUT_QUEUE: usize = DEFAULT_CAPACITY;
const PACED_INTERVAL: Duration = Duration::from_micros(10);

/// How much each measurement does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Sizes {
    quick: bool,
    runs: usize,
    warmup: usize,
    calls: usize,
    paced_calls: usize,
    paced_interval_ns: u64,
    events: u64,
    burst: u64,
}

fn sizes() -> Sizes {
    let quick = std::env::var("FAPILOG_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let scale = if quick { 10 } else { 1 };
    let runs = std::env::var("FAPILOG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1 } else { 3 });
    Sizes {
        quick,
        runs: runs.max(1),
        warmup: 20_000 / scale,
        calls: 200_000 / scale,
        paced_calls: 50_000 / scale,
        paced_interval_ns: PACED_INTERVAL.as_nanos() as u64,
        events: 1_000_000 / scale as u64,
        burst: 2_000_000 / scale as u64,
    }
}

// ---- slog + slog-json + slog-async ----

/// `slog` with `slog-json` behind `slog-async`.
struct Slog {
    log: slog::Logger,
    guard: slog_async::AsyncGuard,
}

impl Slog {
    /// `block: None` keeps slog-async's defaults (128 records, drop and
    /// report); `Some(n)` blocks the caller on a queue of `n` records.
    fn new(file: Option<&Path>, block: Option<usize>) -> Self {
        use slog::Drain;
        // slog-json writes a record in many small pieces: buffer them.
        let json = slog_json::Json::default(cases::writer(file, true)).ignore_res();
        let builder = slog_async::Async::new(json);
        let builder = match block {
            Some(n) => builder
                .chan_size(n)
                .overflow_strategy(slog_async::OverflowStrategy::Block),
            None => builder,
        };
        let (drain, guard) = builder.build_with_guard();
        Slog {
            log: slog::Logger::root(drain.ignore_res(), slog::o!()),
            guard,
        }
    }
}

impl Case for Slog {
    fn producer(&self) -> Box<dyn Producer> {
        let log = self.log.clone();
        Box::new(move |i: u64| {
            slog::info!(log, "request handled"; "user_id" => i, "path" => PATH, "latency_ms" => 12.5);
        })
    }

    fn finish(self: Box<Self>) -> Option<Delivery> {
        let Slog { log, guard } = *self;
        drop(log);
        drop(guard);
        None
    }
}

// ---- ftlog (the `log` facade's key-values, formatted as JSON on ftlog's thread) ----

/// ftlog's documented extension point: the call captures what the log
/// thread will format. Its own formatter drops key-values, so this one
/// captures them, rendered as a JSON object.
struct FtlogJson;

impl ftlog::FtLogFormat for FtlogJson {
    fn msg(&self, record: &log::Record<'_>) -> Box<dyn Send + Sync + Display> {
        let mut line = Vec::with_capacity(96);
        line.extend_from_slice(b"{\"level\":\"");
        line.extend_from_slice(record.level().as_str().as_bytes());
        line.extend_from_slice(b"\",\"msg\":");
        match record.args().as_str() {
            Some(msg) => json_string(&mut line, msg),
            None => json_string(&mut line, &record.args().to_string()),
        }
        let _ = record.key_values().visit(&mut JsonFields(&mut line));
        line.push(b'}');
        Box::new(String::from_utf8(line).unwrap_or_default())
    }
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(out, s);
}

struct JsonFields<'a>(&'a mut Vec<u8>);

impl<'kvs> log::kv::VisitSource<'kvs> for JsonFields<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let out = &mut *self.0;
        out.push(b',');
        json_string(out, key.as_str());
        out.push(b':');
        if let Some(n) = value.to_u64() {
            let _ = write!(out, "{n}");
        } else if let Some(x) = value.to_f64() {
            let _ = write!(out, "{x}");
        } else if let Some(s) = value.to_borrowed_str() {
            json_string(out, s);
        } else {
            json_string(out, &value.to_string());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum FtlogQueue {
    /// ftlog's default: 100,000 messages, excess dropped.
    Default,
    /// This many messages, callers wait when it is full.
    Block(usize),
    Unbounded,
}

/// ftlog as the process's `log` logger, to its own `FileAppender`.
struct Ftlog {
    guard: ftlog::LoggerGuard,
}

impl Ftlog {
    fn new(file: Option<&Path>, queue: FtlogQueue) -> Self {
        let builder = ftlog::builder()
            .format(FtlogJson)
            .utc()
            .max_log_level(log::LevelFilter::Info);
        let builder = match file {
            Some(path) => builder.root(ftlog::appender::FileAppender::new(path)),
            None => builder.root(std::io::sink()),
        };
        let builder = match queue {
            FtlogQueue::Default => builder,
            FtlogQueue::Block(n) => builder.bounded(n, true),
            FtlogQueue::Unbounded => builder.unbounded(),
        };
        Ftlog {
            guard: builder.try_init().expect("ftlog is the first logger"),
        }
    }
}

impl Case for Ftlog {
    fn producer(&self) -> Box<dyn Producer> {
        Box::new(|i: u64| {
            log::info!(user_id = i, path = PATH, latency_ms = 12.5; "request handled");
        })
    }

    fn finish(self: Box<Self>) -> Option<Delivery> {
        // Dropping the guard flushes everything queued.
        drop(self.guard);
        None
    }
}

// ---- the cases ----

/// Builds a case writing to the file (if any), with this queue size where the
/// case's queue is configurable.
type Make = fn(Option<&Path>, usize) -> Box<dyn Case>;

#[derive(Clone, Copy)]
struct CaseDef {
    name: &'static str,
    label: &'static str,
    /// Drops events when its queue is full.
    lossy: bool,
    /// Writes to a file (events are counted there); otherwise nowhere.
    file: bool,
    /// Every call is below the level: no event is produced.
    disabled: bool,
    make: Make,
}

const FLOOR: &str = "floor";

/// The cases measured in full (latency, paced, throughput).
fn cases() -> Vec<CaseDef> {
    let case = |name, label, lossy, make| CaseDef {
        name,
        label,
        lossy,
        file: true,
        disabled: false,
        make,
    };
    vec![
        case(FLOOR, "floor (crossbeam + serde_json)", false, |f, c| {
            Box::new(Floor::new(f, c))
        }),
        case("fapilog_file", "fapilog → file (Block)", false, |f, c| {
            Box::new(Fapilog::new(f, c, BLOCK))
        }),
        case(
            "fapilog_file_no_stages",
            "fapilog → file, no redaction/enrichment (Block)",
            false,
            |f, c| Box::new(Fapilog::with(f, c, BLOCK, false, Level::Info)),
        ),
        CaseDef {
            file: false,
            ..case(
                "fapilog_null",
                "fapilog → null sink (Block)",
                false,
                |_, c| Box::new(Fapilog::new(None, c, BLOCK)),
            )
        },
        CaseDef {
            file: false,
            disabled: true,
            ..case(
                "fapilog_disabled",
                "fapilog, level disabled",
                false,
                |_, c| Box::new(Fapilog::with(None, c, BLOCK, true, Level::Warn)),
            )
        },
        case(
            "tracing_lossy",
            "tracing non_blocking (defaults, lossy)",
            true,
            |f, _| Box::new(Tracing::new(f, TracingQueue::LossyDefault, true)),
        ),
        case(
            "tracing_lossless",
            "tracing non_blocking (lossless)",
            false,
            |f, c| Box::new(Tracing::new(f, TracingQueue::Lossless(c), true)),
        ),
        case(
            "slog_default",
            "slog-async (defaults, lossy)",
            true,
            |f, _| Box::new(Slog::new(f, None)),
        ),
        case("slog_block", "slog-async (Block)", false, |f, c| {
            Box::new(Slog::new(f, Some(c)))
        }),
        case("ftlog_block", "ftlog (bounded, blocking)", false, |f, c| {
            Box::new(Ftlog::new(f, FtlogQueue::Block(c)))
        }),
    ]
}

/// The lossy configurations, for the burst.
fn burst_cases() -> Vec<CaseDef> {
    let case = |name, label, make| CaseDef {
        name,
        label,
        lossy: true,
        file: true,
        disabled: false,
        make,
    };
    vec![
        case(
            "fapilog_default",
            "fapilog (defaults: DropOldest, 16,384)",
            |f, c| Box::new(Fapilog::new(f, c, OverflowPolicy::DropOldest)),
        ),
        case(
            "tracing_lossy",
            "tracing non_blocking (defaults, lossy)",
            |f, _| Box::new(Tracing::new(f, TracingQueue::LossyDefault, true)),
        ),
        case("slog_default", "slog-async (defaults, lossy)", |f, _| {
            Box::new(Slog::new(f, None))
        }),
        case(
            "ftlog_default",
            "ftlog (defaults: 100,000, drop)",
            |f, _| Box::new(Ftlog::new(f, FtlogQueue::Default)),
        ),
        case("ftlog_unbounded", "ftlog (unbounded)", |f, _| {
            Box::new(Ftlog::new(f, FtlogQueue::Unbounded))
        }),
    ]
}

// ---- one measurement, in a child process ----

/// What one child process measured; unset fields do not apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sample {
    p50: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
    max: Option<f64>,
    allocs_per_call: Option<f64>,
    producer_per_s: Option<f64>,
    end_to_end_per_s: Option<f64>,
    expected: Option<f64>,
    lost: Option<f64>,
    bytes_per_event: Option<f64>,
    peak_rss_mib: Option<f64>,
    seconds: Option<f64>,
    mean_ns: Option<f64>,
    /// Events lost by the logger's own count, where it keeps one.
    reported_lost: Option<f64>,
    /// The first event line written, to show each logger's format.
    line: Option<String>,
}

const MEASUREMENTS: [&str; 4] = ["latency", "paced", "producers1", "producers2"];

fn child(case_name: &str, measurement: &str) -> Sample {
    let s = sizes();
    let def = cases()
        .into_iter()
        .chain(burst_cases())
        .find(|c| c.name == case_name)
        .expect("known case");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("out.log");
    let file = def.file.then_some(path.as_path());
    let make = |capacity| (def.make)(file, capacity);
    // What reached the output, given what the logger says it wrote.
    let lost = |expected: u64, delivery: Option<Delivery>| -> Option<f64> {
        if def.disabled {
            return None;
        }
        let found = if def.file {
            measure::count_events(&path, MESSAGE).events
        } else {
            delivery?.written
        };
        Some(expected.saturating_sub(found) as f64)
    };
    let first_line = || {
        let text = def
            .file
            .then(|| std::fs::read_to_string(&path).ok())
            .flatten()?;
        text.lines()
            .find(|l| l.contains(MESSAGE))
            .map(str::to_owned)
    };
    let bytes = || {
        def.file
            .then(|| measure::count_events(&path, MESSAGE).bytes_per_event as f64)
    };
    match measurement {
        "latency" | "paced" => {
            let (calls, pace) = if measurement == "paced" {
                (s.paced_calls, Some(PACED_INTERVAL))
            } else {
                (s.calls, None)
            };
            let l = measure::measure_latency(make(ROOMY), s.warmup, calls, pace);
            Sample {
                p50: Some(l.p50 as f64),
                p99: Some(l.p99 as f64),
                p999: Some(l.p999 as f64),
                max: Some(l.max as f64),
                allocs_per_call: Some(l.allocs_per_call),
                ..Sample::default()
            }
        }
        "producers1" | "producers2" => {
            let threads = if measurement == "producers2" { 2 } else { 1 };
            let t = measure::measure_throughput(make(THROUGHPUT_QUEUE), threads, s.events);
            let lost = lost(s.events, t.delivery);
            // Events written (not calls made) per second until the last is written.
            let written = s.events as f64 - lost.unwrap_or(0.0);
            Sample {
                producer_per_s: Some(t.producer_rate(s.events)),
                end_to_end_per_s: (!def.disabled).then(|| written / t.end_to_end.as_secs_f64()),
                expected: Some(s.events as f64),
                lost,
                bytes_per_event: bytes(),
                mean_ns: def.disabled.then(|| disabled_loop_ns(s.calls as u64 * 10)),
                reported_lost: t.delivery.map(|d| d.lost as f64),
                line: first_line(),
                ..Sample::default()
            }
        }
        "burst" => {
            let reset = measure::reset_peak_rss();
            let before = measure::peak_rss_kib();
            let start = Instant::now();
            let t = measure::measure_throughput(make(DEFAULT_CAPACITY), 1, s.burst);
            let seconds = start.elapsed().as_secs_f64();
            let after = measure::peak_rss_kib();
            let peak = match (reset, before, after) {
                (true, Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / 1024.0),
                _ => None,
            };
            Sample {
                expected: Some(s.burst as f64),
                lost: lost(s.burst, t.delivery),
                peak_rss_mib: peak,
                seconds: Some(seconds),
                reported_lost: t.delivery.map(|d| d.lost as f64),
                producer_per_s: Some(t.producer_rate(s.burst)),
                ..Sample::default()
            }
        }
        other => panic!("unknown measurement {other:?}"),
    }
}

/// Mean ns per disabled call in a plain loop (no `dyn` call in between).
fn disabled_loop_ns(calls: u64) -> f64 {
    let (pipeline, guard) = fapilog::pipeline::Pipeline::builder()
        .level(Level::Warn)
        .sink(
            fapilog::sink::NullSink::new(),
            fapilog::format::JsonFormat::new(),
        )
        .build()
        .expect("pipeline");
    let log = pipeline.logger();
    let start = Instant::now();
    for i in 0..calls {
        fapilog::info!(
            log,
            "request handled",
            user_id = std::hint::black_box(i),
            path = PATH,
            latency_ms = 12.5
        );
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / calls as f64;
    drop(guard);
    ns
}

fn run_child(case: &str, measurement: &str) -> Sample {
    let exe = std::env::current_exe().expect("own executable");
    let out = Command::new(exe)
        .args(["--child", case, measurement])
        .output()
        .expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last().map(serde_json::from_str::<Sample>) {
        Some(Ok(sample)) if out.status.success() => sample,
        _ => panic!(
            "{case} {measurement} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

// ---- the report ----

#[derive(Debug, Serialize, Deserialize)]
struct Machine {
    nproc: usize,
    cpu: String,
    kernel: String,
    loadavg_start: String,
    loadavg_end: String,
    unix_time: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct CaseReport {
    name: String,
    label: String,
    lossy: bool,
    /// Medians over the rounds, by measurement.
    latency: Sample,
    paced: Sample,
    producers1: Sample,
    producers2: Sample,
}

#[derive(Debug, Serialize, Deserialize)]
struct BurstReport {
    name: String,
    label: String,
    burst: Sample,
}

#[derive(Debug, Serialize, Deserialize)]
struct Report {
    machine: Machine,
    sizes: Sizes,
    timer_overhead_ns: u64,
    cases: Vec<CaseReport>,
    bursts: Vec<BurstReport>,
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// The median of every field over `samples`.
fn median_sample(samples: &[Sample]) -> Sample {
    let m = |f: fn(&Sample) -> Option<f64>| {
        let mut v: Vec<f64> = samples.iter().filter_map(f).collect();
        median(&mut v)
    };
    Sample {
        p50: m(|s| s.p50),
        p99: m(|s| s.p99),
        p999: m(|s| s.p999),
        max: m(|s| s.max),
        allocs_per_call: m(|s| s.allocs_per_call),
        producer_per_s: m(|s| s.producer_per_s),
        end_to_end_per_s: m(|s| s.end_to_end_per_s),
        expected: m(|s| s.expected),
        lost: m(|s| s.lost),
        bytes_per_event: m(|s| s.bytes_per_event),
        peak_rss_mib: m(|s| s.peak_rss_mib),
        seconds: m(|s| s.seconds),
        mean_ns: m(|s| s.mean_ns),
        reported_lost: m(|s| s.reported_lost),
        line: samples.iter().find_map(|s| s.line.clone()),
    }
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    read_trimmed("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default()
}

/// `1234567.8` → `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let (sign, digits) = digits.split_at(if digits.starts_with('-') { 1 } else { 0 });
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn cell(x: Option<f64>) -> String {
    x.map(thousands).unwrap_or_default()
}

fn ratio(x: Option<f64>, base: Option<f64>) -> String {
    match (x, base) {
        (Some(x), Some(b)) if b > 0.0 => format!("{:.2}×", x / b),
        _ => String::new(),
    }
}

fn lost_cell(s: &Sample) -> String {
    match (s.lost, s.expected) {
        (Some(l), Some(e)) if e > 0.0 => format!("{} ({:.1}%)", thousands(l), l / e * 100.0),
        _ => String::new(),
    }
}

fn print_report(r: &Report) {
    let floor = r.cases.iter().find(|c| c.name == FLOOR);
    let s = &r.sizes;
    println!(
        "\nmachine: {} cores, {}, kernel {}; load {} → {}",
        r.machine.nproc,
        r.machine.cpu,
        r.machine.kernel,
        r.machine.loadavg_start,
        r.machine.loadavg_end
    );
    println!(
        "medians of {} round(s){}; timer overhead p50 {} ns (included in every latency)",
        s.runs,
        if s.quick { ", QUICK sizes" } else { "" },
        r.timer_overhead_ns
    );
    println!(
        "\n## Per-call latency, {} calls after {} warm-up (ns); paced: {} calls, one per {} ns",
        s.calls, s.warmup, s.paced_calls, s.paced_interval_ns
    );
    println!("| case | p50 | p50 × floor | p99 | p99.9 | max | allocs/call | paced p50 | paced p50 × floor | paced p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in &r.cases {
        let (l, p) = (&c.latency, &c.paced);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
            c.label,
            cell(l.p50),
            ratio(l.p50, floor.and_then(|f| f.latency.p50)),
            cell(l.p99),
            cell(l.p999),
            cell(l.max),
            l.allocs_per_call.unwrap_or_default(),
            cell(p.p50),
            ratio(p.p50, floor.and_then(|f| f.paced.p50)),
            cell(p.p99),
        );
    }
    if let Some(d) = r.cases.iter().find_map(|c| c.producers1.mean_ns) {
        println!("fapilog, level disabled, mean of a plain loop: {d:.2} ns per call");
    }
    println!("\n## One event as each logger writes it");
    for c in &r.cases {
        if let Some(line) = &c.producers1.line {
            println!("- {}: `{line}`", c.label);
        }
    }
    println!("\n## Throughput, {} events (events/s)", s.events);
    println!("| case | producer, 1 thread | producer, 2 threads | end to end, 1 producer | × floor | end to end, 2 producers | lost, 1 producer | lost, 2 producers | bytes/event |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in &r.cases {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.label,
            cell(c.producers1.producer_per_s),
            cell(c.producers2.producer_per_s),
            cell(c.producers1.end_to_end_per_s),
            ratio(
                c.producers1.end_to_end_per_s,
                floor.and_then(|f| f.producers1.end_to_end_per_s)
            ),
            cell(c.producers2.end_to_end_per_s),
            lost_cell(&c.producers1),
            lost_cell(&c.producers2),
            cell(c.producers1.bytes_per_event),
        );
    }
    println!(
        "\n## Burst of {} events, one producer, lossy configurations",
        s.burst
    );
    println!("| case | lost (lines missing) | lost by the logger's own count | peak RSS added (MiB) | seconds until written |");
    println!("|---|---:|---:|---:|---:|");
    for b in &r.bursts {
        println!(
            "| {} | {} | {} | {} | {} |",
            b.label,
            lost_cell(&b.burst),
            cell(b.burst.reported_lost),
            b.burst
                .peak_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or_default(),
            b.burst
                .seconds
                .map(|m| format!("{m:.2}"))
                .unwrap_or_default(),
        );
    }
}

fn json_path(sizes: &Sizes) -> PathBuf {
    if let Some(p) = std::env::var_os("FAPILOG_BENCH_JSON") {
        return PathBuf::from(p);
    }
    if sizes.quick {
        std::env::temp_dir().join("fapilog-bench-compare-quick.json")
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bench/compare.json")
    }
}

fn orchestrate() {
    let sizes = sizes();
    let loadavg_start = read_trimmed("/proc/loadavg");
    let timer_overhead_ns = measure::timer_overhead(sizes.calls);
    let defs = cases();
    let bursts = burst_cases();
    let mut samples: BTreeMap<(&str, &str), Vec<Sample>> = BTreeMap::new();
    for round in 1..=sizes.runs {
        eprintln!("round {round}/{}", sizes.runs);
        for def in &defs {
            for m in MEASUREMENTS {
                if def.disabled && m == "producers2" {
                    continue;
                }
                let sample = run_child(def.name, m);
                samples.entry((def.name, m)).or_default().push(sample);
            }
        }
        for def in &bursts {
            let sample = run_child(def.name, "burst");
            samples.entry((def.name, "burst")).or_default().push(sample);
        }
    }
    let med = |name, m| median_sample(samples.get(&(name, m)).map_or(&[][..], Vec::as_slice));
    let report = Report {
        machine: Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu: cpu_model(),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            loadavg_start,
            loadavg_end: read_trimmed("/proc/loadavg"),
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        },
        sizes,
        timer_overhead_ns,
        cases: defs
            .iter()
            .map(|d| CaseReport {
                name: d.name.to_owned(),
                label: d.label.to_owned(),
                lossy: d.lossy,
                latency: med(d.name, "latency"),
                paced: med(d.name, "paced"),
                producers1: med(d.name, "producers1"),
                producers2: med(d.name, "producers2"),
            })
            .collect(),
        bursts: bursts
            .iter()
            .map(|d| BurstReport {
                name: d.name.to_owned(),
                label: d.label.to_owned(),
                burst: med(d.name, "burst"),
            })
            .collect(),
    };
    print_report(&report);
    let path = json_path(&sizes);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let json = serde_json::to_string_pretty(&report).expect("report serializes");
    std::fs::write(&path, json + "\n").expect("write the JSON report");
    println!("\nJSON: {}", path.display());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--child") {
        Some(i) if args.len() > i + 2 => {
            let sample = child(&args[i + 1], &args[i + 2]);
            println!(
                "{}",
                serde_json::to_string(&sample).expect("sample serializes")
            );
        }
        _ => orchestrate(),
    }
}
