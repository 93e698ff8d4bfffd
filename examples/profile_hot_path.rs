//! Hot-path profiler: where one enabled call's time goes, and the writer's per-event work.
//!
//! ```text
//! cargo run --release --example profile_hot_path -- --output profile.json
//! cargo run --release --example profile_hot_path -- --help
//! ```
//!
//! Each component is timed on its own in batches of `--batch` iterations
//! (one `Instant` pair per batch, its cost subtracted), so even a 1-ns step is
//! measured and not the timer; mean, p50 and p99 are over the batches'
//! per-call means. The components of the call site are interleaved round by
//! round with the whole call and with the floors, so load from other work on
//! the machine lands on all of them alike. UNEXPLAINED is the whole minus the
//! sum of the components (p50s). The findings are in
//! `docs/architecture/hot-path-profile.md`.
//!
//! The event is the benches' (`benches/hot_path.rs`): INFO "request handled"
//! with `user_id: u64`, `path: &str` (copied), `latency_ms: f64`.
#![allow(missing_docs, unsafe_code)]

use std::borrow::Cow;
use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fapilog::enrich::Enrichment;
use fapilog::format::{Format, JsonFormat};
use fapilog::pipeline::{Pipeline, WriterGuard};
use fapilog::process::Redactor;
use fapilog::sink::{FileSink, NullSink, Sink};
use fapilog::{CapturedError, Context, Envelope, Field, Fields, Level, Logger};
use fapilog::{RawEvent, Timestamp, Value};
use fapilog_core::profiling::{assemble, thread_tag, QueueProbe, StagesProbe};
use serde::Serialize;
use serde_json::json;

// ---- shared with the benches: allocation counting, the event, the floor's event ----

#[path = "../benches/support/alloc_count.rs"]
mod alloc_count;
use alloc_count::allocations;
#[path = "../benches/support/cases.rs"]
mod cases;
use cases::{log_one, FloorEvent, BLOCK, PATH};

// ---- options ----

/// Big enough that the call-site runs never wait for the writer.
const ROOMY: usize = 262_144;
const WRITER_THREAD: &str = "profile-writer";
const FLOOR_THREAD: &str = "profile-floor";

const HELP: &str = "\
profile_hot_path: component breakdown of fapilog's enabled call and of its writer

USAGE:
    cargo run --release --example profile_hot_path -- [OPTIONS]

OPTIONS:
    --output PATH        also write every figure as JSON to PATH
    --only LIST          sections to run, comma-separated (default: all):
                           call    the enabled call, component by component, with the floors
                           writer  the writer's per-event work, and the floor's consumer
                           copy    field copy costs for a 256-byte payload
                           errors  error capture: source chains 1/5/20, backtraces at depth 10/25/50
    --batch N            iterations per timed batch (default 256)
    --batches N          batches per component per round (default 200)
    --rounds N           rounds; components are interleaved within each (default 5)
    --writer-events N    events through the real writer for its end-to-end cost (default 1000000)
    --writer-batch N     events per batch in the writer's breakdown (default: the mean
                         batch the real writer took in the end-to-end run)
    --bound-context      log through a logger with bound fields and a correlation ID
                         (the default logger has none, as in benches/hot_path.rs)
    --quick              a fifth of the batches and events (a smoke run)
    --loop N             only log N enabled calls through a default pipeline to a file and
                         exit (a workload for `perf record`; see scripts/flamegraph.sh)
    -h, --help           this text

Figures are nanoseconds. Each component is timed alone over batches of N
iterations (one Instant pair per batch, its cost subtracted; call-site
components also have the empty loop's cost subtracted); mean, p50 and p99
are over batches. UNEXPLAINED = whole - sum of components (p50s).
";

#[derive(Debug, Clone)]
struct Options {
    output: Option<PathBuf>,
    sections: Vec<String>,
    batch: usize,
    batches: usize,
    rounds: usize,
    writer_events: u64,
    writer_batch: Option<usize>,
    bound_context: bool,
    loop_calls: Option<u64>,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut opts = Options {
            output: None,
            sections: ["call", "writer", "copy", "errors"]
                .map(String::from)
                .to_vec(),
            batch: 256,
            batches: 200,
            rounds: 5,
            writer_events: 1_000_000,
            writer_batch: None,
            bound_context: false,
            loop_calls: None,
        };
        let mut quick = false;
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--output" => opts.output = Some(PathBuf::from(value("--output")?)),
                "--only" => {
                    let list = value("--only")?;
                    opts.sections = list.split(',').map(str::to_owned).collect();
                    if let Some(bad) = opts
                        .sections
                        .iter()
                        .find(|s| !["call", "writer", "copy", "errors"].contains(&s.as_str()))
                    {
                        return Err(format!("--only: unknown section {bad:?}"));
                    }
                }
                "--batch" => opts.batch = number(&value("--batch")?, "--batch")?,
                "--batches" => opts.batches = number(&value("--batches")?, "--batches")?,
                "--rounds" => opts.rounds = number(&value("--rounds")?, "--rounds")?,
                "--writer-events" => {
                    opts.writer_events = number(&value("--writer-events")?, "--writer-events")?
                }
                "--writer-batch" => {
                    opts.writer_batch = Some(number(&value("--writer-batch")?, "--writer-batch")?)
                }
                "--bound-context" => opts.bound_context = true,
                "--quick" => quick = true,
                "--loop" => opts.loop_calls = Some(number(&value("--loop")?, "--loop")?),
                other => return Err(format!("unknown option {other:?} (see --help)")),
            }
        }
        if opts.batch == 0 || opts.batches == 0 || opts.rounds == 0 || opts.writer_events == 0 {
            return Err(
                "--batch, --batches, --rounds and --writer-events must be at least 1".into(),
            );
        }
        if quick {
            opts.batches = (opts.batches / 5).max(1);
            opts.writer_events = (opts.writer_events / 5).max(1);
        }
        Ok(Some(opts))
    }

    fn runs(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    match text.parse() {
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{name}: {text:?} is not a positive number")),
    }
}

// ---- statistics and timing ----

/// Mean, median and 99th percentile of per-call nanoseconds over batches.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Stats {
    mean: f64,
    p50: f64,
    p99: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        Stats {
            mean: samples.iter().sum::<f64>() / samples.len() as f64,
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// The clock's and the empty loop's own costs, measured first.
#[derive(Debug, Clone, Copy, Serialize)]
struct Calibration {
    /// One `Instant::now()` pair, p50 (ns).
    timer_pair_ns: f64,
    /// One iteration of an empty `black_box` loop, p50 (ns).
    loop_ns: f64,
}

fn calibrate(batch: usize) -> Calibration {
    let mut pairs: Vec<f64> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            black_box(start.elapsed()).as_nanos() as f64
        })
        .collect();
    pairs.sort_by(f64::total_cmp);
    let timer_pair_ns = pairs[pairs.len() / 2];
    let loops = (0..2_000)
        .map(|_| {
            let start = Instant::now();
            for i in 0..batch {
                black_box(i);
            }
            (start.elapsed().as_nanos() as f64 - timer_pair_ns) / batch as f64
        })
        .collect();
    Calibration {
        timer_pair_ns,
        loop_ns: Stats::of(loops).p50,
    }
}

/// Per-call nanoseconds of one batch of `n` iterations that took `elapsed`.
fn per_call(elapsed: Duration, n: usize, cal: &Calibration, loop_ns: f64) -> f64 {
    (elapsed.as_nanos() as f64 - cal.timer_pair_ns) / n as f64 - loop_ns
}

/// Times `body` (which runs `n` iterations and returns their elapsed time)
/// `batches` times; per-call ns of each batch.
fn sample(batches: usize, mut body: impl FnMut() -> f64) -> Vec<f64> {
    (0..batches).map(|_| body()).collect()
}

/// A row of a breakdown table.
#[derive(Debug, Clone, Serialize)]
struct Row {
    component: String,
    #[serde(flatten)]
    stats: Stats,
    /// This component's p50 as a share of the whole's p50.
    share: f64,
}

/// A component breakdown: rows, their whole measured end to end, and what the rows leave out.
#[derive(Debug, Clone, Serialize)]
struct Breakdown {
    title: String,
    rows: Vec<Row>,
    total: Stats,
    sum_of_components_p50: f64,
    unexplained: Stats,
    unexplained_share: f64,
}

impl Breakdown {
    fn new(title: &str, parts: Vec<(String, Stats)>, total: Stats) -> Breakdown {
        let sum: f64 = parts.iter().map(|(_, s)| s.p50).sum();
        let sum_mean: f64 = parts.iter().map(|(_, s)| s.mean).sum();
        let rows = parts
            .into_iter()
            .map(|(component, stats)| Row {
                share: stats.p50 / total.p50,
                component,
                stats,
            })
            .collect();
        let unexplained = Stats {
            mean: total.mean - sum_mean,
            p50: total.p50 - sum,
            p99: f64::NAN,
        };
        Breakdown {
            title: title.to_owned(),
            rows,
            total,
            sum_of_components_p50: sum,
            unexplained_share: unexplained.p50 / total.p50,
            unexplained,
        }
    }
}

impl fmt::Display for Breakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n### {}\n", self.title)?;
        writeln!(f, "| component | mean | p50 | p99 | share |")?;
        writeln!(f, "|---|---:|---:|---:|---:|")?;
        for row in &self.rows {
            let s = row.stats;
            writeln!(
                f,
                "| {} | {} | {} | {} | {:.1}% |",
                row.component,
                format_figure(s.mean),
                format_figure(s.p50),
                format_figure(s.p99),
                row.share * 100.0
            )?;
        }
        let t = self.total;
        writeln!(
            f,
            "| **TOTAL** (measured whole) | {} | {} | {} | 100.0% |",
            format_figure(t.mean),
            format_figure(t.p50),
            format_figure(t.p99)
        )?;
        writeln!(
            f,
            "| **UNEXPLAINED** (total − Σ components) | {:.1} | {:.1} | | {:.1}% |",
            self.unexplained.mean,
            self.unexplained.p50,
            self.unexplained_share * 100.0
        )
    }
}

/// A table of named figures beside the breakdowns (floors, copy and error costs).
#[derive(Debug, Clone, Serialize)]
struct Table {
    title: String,
    columns: Vec<String>,
    rows: Vec<(String, Vec<f64>)>,
}

impl Table {
    fn new(title: &str, columns: &[&str]) -> Table {
        Table {
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, name: impl Into<String>, values: Vec<f64>) {
        self.rows.push((name.into(), values));
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n### {}\n", self.title)?;
        writeln!(f, "| case | {} |", self.columns.join(" | "))?;
        writeln!(f, "|---|{}", "---:|".repeat(self.columns.len()))?;
        for (name, values) in &self.rows {
            let cells: Vec<String> = values.iter().map(|v| format_figure(*v)).collect();
            writeln!(f, "| {name} | {} |", cells.join(" | "))?;
        }
        Ok(())
    }
}

fn format_figure(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.abs() >= 10_000.0 {
        format!("{v:.0}")
    } else if v != 0.0 && v.abs() < 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

// ---- the call site ----

/// The benches' fields, pushed into `event` by the code the macro expands to.
#[inline(always)]
fn capture_fields(event: &mut RawEvent, i: u64) {
    fapilog_core::__fapilog_fields!(event; user_id = i, path = PATH, latency_ms = 12.5);
}

/// The benches' event as the macro starts it, stamped `ts`, before its fields.
#[inline(always)]
fn start_event(ts: Timestamp, context: Option<Arc<Context>>) -> RawEvent {
    assemble(
        ts,
        Level::Info,
        Some(module_path!()),
        Cow::Borrowed("request handled"),
        context,
        0,
    )
}

/// The benches' event as the macro assembles it, stamped `ts`.
#[inline(always)]
fn assemble_event(ts: Timestamp, i: u64, context: Option<Arc<Context>>) -> RawEvent {
    let mut event = start_event(ts, context);
    capture_fields(&mut event, i);
    event
}

fn profiled_logger(pipeline: &Pipeline, bound: bool) -> Logger {
    let log = pipeline.logger();
    if bound {
        log.bind("service", "checkout")
            .bind("region", "eu-west-1")
            .with_correlation_id("0192f0c4-7a4e-7d2a-9b1e-3c5d7e9f1a2b")
    } else {
        log
    }
}

/// The call site: each step alone, the whole call, and the floors, interleaved.
fn call_site(opts: &Options, cal: &Calibration) -> Result<(Breakdown, Table), Box<dyn Error>> {
    let (pipeline, guard) = Pipeline::builder()
        .capacity(ROOMY)
        .overflow(BLOCK)
        .sink(NullSink::new(), JsonFormat::new())
        .thread_name(WRITER_THREAD)
        .build()?;
    let log = profiled_logger(&pipeline, opts.bound_context);
    // The same snapshot the logger takes: `None`, or an `Arc` of its context.
    let context: Option<Arc<Context>> = log.context().map(|c| Arc::new(c.clone()));
    let n = opts.batch;

    let floor = Floor::new(ROOMY, None)?;
    let minimal = MinimalCapture::new(ROOMY);
    let per_call_calls = n * opts.batches * opts.rounds / 4;

    // A fresh queue first, as `benches/hot_path.rs` measures it: its buffers
    // are reserved, not touched, so the first pass through them page-faults.
    let (cold_single, cold_faults) =
        per_call_faults(cal, per_call_calls, &mut |i| log_one(&log, i));
    // Then touch every page of both of the queue's buffers (the queue's and
    // the writer's spare, swapped each batch), so what follows is the steady state.
    for _ in 0..2 {
        for i in 0..ROOMY as u64 {
            log_one(&log, i);
        }
        pipeline.flush();
    }

    let names = [
        "level gate (`enabled_for`)",
        "thread tag (off by default)",
        "context snapshot (`Option<Arc<Context>>` clone)",
        "timestamp (`SystemTime::now`)",
        "field capture (3 fields pushed into the event, macro code; paired difference)",
        "event start (`RawEvent` built in place; paired difference)",
        "enqueue (`Pipeline::submit`, writer running; paired difference)",
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut whole = Vec::new();
    let mut floor_batched = Vec::new();
    let mut floor_capture = Vec::new();
    let mut floor_send = Vec::new();
    let mut raw_tsc = Vec::new();
    let mut minimal_batched = Vec::new();
    let mut snapshots: Vec<Option<Arc<Context>>> = Vec::with_capacity(n);
    let loop_ns = cal.loop_ns;
    let timed = |start: Instant| per_call(start.elapsed(), n, cal, loop_ns);

    for _ in 0..opts.rounds {
        // Each round starts with an empty queue, so it never fills and blocks.
        pipeline.flush();
        let b = opts.batches;
        let log_ref = black_box(&log);
        samples[0].extend(sample(b, || {
            let start = Instant::now();
            for _ in 0..n {
                black_box(log_ref.enabled_for(Level::Info, module_path!()));
            }
            timed(start)
        }));
        samples[1].extend(sample(b, || {
            let start = Instant::now();
            for _ in 0..n {
                black_box(thread_tag(log_ref.pipeline()));
            }
            timed(start)
        }));
        samples[2].extend(sample(b, || {
            snapshots.clear();
            let start = Instant::now();
            for _ in 0..n {
                snapshots.push(black_box(&context).clone());
            }
            timed(start)
        }));
        snapshots.clear();
        samples[3].extend(sample(b, || {
            let start = Instant::now();
            for _ in 0..n {
                black_box(Timestamp::now());
            }
            timed(start)
        }));
        // The event's start, its fields and the enqueue need what the steps
        // before them made; each is timed as the difference between two loops
        // run back to back on the same batch (a paired difference, so both
        // see the same conditions).
        // The loops are written out, not shared through a closure: behind a
        // `dyn` call the compiler no longer builds the event in place, and the
        // loops would measure that instead of the call site's code.
        for _ in 0..b {
            let ts = Timestamp::now();
            let start = Instant::now();
            for _ in 0..n {
                let parts = context.clone();
                black_box(&parts);
                // Nothing on the heap but, at most, a reference count.
                std::mem::forget(parts);
            }
            let parts_ns = timed(start);
            let start = Instant::now();
            for _ in 0..n {
                let event = start_event(ts, context.clone());
                black_box(&event);
                std::mem::forget(event);
            }
            let started_ns = timed(start);
            let start = Instant::now();
            for i in 0..n as u64 {
                let event = assemble_event(ts, black_box(i), context.clone());
                black_box(&event);
                // Scalars and inline strings only: nothing to free.
                std::mem::forget(event);
            }
            let assembled_ns = timed(start);
            let start = Instant::now();
            for i in 0..n as u64 {
                let event = assemble_event(ts, black_box(i), context.clone());
                log_ref.pipeline().submit(event);
            }
            let submitted_ns = timed(start);
            samples[5].push(started_ns - parts_ns);
            samples[4].push(assembled_ns - started_ns);
            samples[6].push(submitted_ns - assembled_ns);
        }
        whole.extend(sample(b, || {
            let start = Instant::now();
            for i in 0..n as u64 {
                log_one(log_ref, black_box(i));
            }
            timed(start)
        }));
        floor_batched.extend(sample(b, || {
            let start = Instant::now();
            for i in 0..n as u64 {
                floor.call(black_box(i));
            }
            timed(start)
        }));
        // The floor's own two steps, the send as a paired difference.
        for _ in 0..b {
            let start = Instant::now();
            for i in 0..n as u64 {
                black_box(FloorEvent::capture(black_box(i)));
            }
            let captured_ns = timed(start);
            let start = Instant::now();
            for i in 0..n as u64 {
                floor.call(black_box(i));
            }
            let called_ns = timed(start);
            floor_capture.push(captured_ns);
            floor_send.push(called_ns - captured_ns);
        }
        raw_tsc.extend(sample(b, || {
            let start = Instant::now();
            for _ in 0..n {
                black_box(raw_timestamp());
            }
            timed(start)
        }));
        minimal_batched.extend(sample(b, || {
            let start = Instant::now();
            for i in 0..n as u64 {
                minimal.call(black_box(i), &context);
            }
            timed(start)
        }));
    }
    pipeline.flush();
    let (fapilog_single, fapilog_faults) =
        per_call_faults(cal, per_call_calls, &mut |i| log_one(&log, i));
    let (floor_single, floor_faults) = per_call_faults(cal, per_call_calls, &mut |i| floor.call(i));
    let (minimal_single, minimal_faults) =
        per_call_faults(cal, per_call_calls, &mut |i| minimal.call(i, &context));

    let allocs_before = allocations();
    for i in 0..10_000 {
        log_one(&log, i);
    }
    let allocs_per_call = (allocations() - allocs_before) as f64 / 10_000.0;

    finish(guard)?;
    floor.finish();
    minimal.finish();

    let total = Stats::of(whole);
    let parts = names
        .iter()
        .zip(samples)
        .map(|(name, s)| ((*name).to_owned(), Stats::of(s)))
        .collect();
    let title = format!(
        "Enabled call, component by component (ns per call; batches of {n}, {} batches each{})",
        opts.batches * opts.rounds,
        if opts.bound_context {
            ", bound context"
        } else {
            ""
        }
    );
    let breakdown = Breakdown::new(&title, parts, total);

    let floor_stats = Stats::of(floor_batched);
    let minimal_stats = Stats::of(minimal_batched);
    let mut floors = Table::new(
        "The call against the floors, same run (ns per call)",
        &[
            "batched mean",
            "batched p50",
            "batched p99",
            "per-call p50",
            "per-call p99",
            "page faults/call",
            "× floor (batched p50)",
        ],
    );
    let ratio = |s: Stats| s.p50 / floor_stats.p50;
    floors.row(
        "fapilog `info!` (3 fields), queue pages touched",
        vec![
            total.mean,
            total.p50,
            total.p99,
            fapilog_single.p50,
            fapilog_single.p99,
            fapilog_faults,
            ratio(total),
        ],
    );
    floors.row(
        "fapilog `info!`, fresh queue (first pass through its pages, as the benches run it)",
        vec![
            f64::NAN,
            f64::NAN,
            f64::NAN,
            cold_single.p50,
            cold_single.p99,
            cold_faults,
            f64::NAN,
        ],
    );
    floors.row(
        "floor: owned struct → bounded crossbeam channel (benches' floor)",
        vec![
            floor_stats.mean,
            floor_stats.p50,
            floor_stats.p99,
            floor_single.p50,
            floor_single.p99,
            floor_faults,
            1.0,
        ],
    );
    let blank = f64::NAN;
    for (name, samples) in [
        (
            "floor, step 1: struct with `SystemTime::now()` (ns since epoch)",
            floor_capture,
        ),
        (
            "floor, step 2: bounded crossbeam send (paired difference)",
            floor_send,
        ),
        (
            "alternative clock: raw TSC read (`rdtsc`, converted later by the writer)",
            raw_tsc,
        ),
    ] {
        let s = Stats::of(samples);
        floors.row(name, vec![s.mean, s.p50, s.p99, blank, blank, blank, blank]);
    }
    floors.row(
        "minimal capture (seed 001 AC3): (level, msg, fields, time, context) → channel",
        vec![
            minimal_stats.mean,
            minimal_stats.p50,
            minimal_stats.p99,
            minimal_single.p50,
            minimal_single.p99,
            minimal_faults,
            ratio(minimal_stats),
        ],
    );
    floors.row(
        "fapilog heap allocations per call (calling thread)",
        vec![
            allocs_per_call,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
        ],
    );
    Ok((breakdown, floors))
}

/// A raw time-stamp counter reading, as a TSC clock (the `quanta` crate)
/// takes it; scaling it to wall time could happen on the writer.
#[inline(always)]
fn raw_timestamp() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC exists on every x86_64 CPU and only reads a counter.
        unsafe { std::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

/// Per-call latency, one `Instant` pair around each of `calls` calls (the
/// benches' method, the pair's own cost subtracted), and the calling thread's
/// minor page faults per call over the run.
fn per_call_faults(cal: &Calibration, calls: usize, f: &mut dyn FnMut(u64)) -> (Stats, f64) {
    let before = own_minor_faults();
    let stats = Stats::of(
        (0..calls as u64)
            .map(|i| {
                let start = Instant::now();
                f(black_box(i));
                start.elapsed().as_nanos() as f64 - cal.timer_pair_ns
            })
            .collect(),
    );
    let faults = before
        .zip(own_minor_faults())
        .map_or(f64::NAN, |(a, b)| (b - a) as f64 / calls as f64);
    (stats, faults)
}

fn finish(guard: WriterGuard) -> Result<(), Box<dyn Error>> {
    let report = guard.shutdown(Duration::from_secs(120));
    if report.dropped + report.failed + report.undelivered != 0 {
        return Err(format!("events lost: {report}").into());
    }
    Ok(())
}

// ---- floors ----

/// The benches' floor: an owned struct through a bounded crossbeam channel,
/// serialized with `serde_json` by a consumer thread.
struct Floor {
    tx: crossbeam_channel::Sender<FloorEvent>,
    consumer: std::thread::JoinHandle<()>,
}

impl Floor {
    fn new(capacity: usize, file: Option<&Path>) -> std::io::Result<Floor> {
        let (tx, rx) = crossbeam_channel::bounded::<FloorEvent>(capacity);
        let mut out: Box<dyn Write + Send> = match file.and_then(|p| File::create(p).ok()) {
            Some(f) => Box::new(BufWriter::new(f)),
            None => Box::new(std::io::sink()),
        };
        let consumer = std::thread::Builder::new()
            .name(FLOOR_THREAD.to_owned())
            .spawn(move || {
                for event in rx {
                    let _ = serde_json::to_writer(&mut out, &event);
                    let _ = out.write_all(b"\n");
                }
                let _ = out.flush();
            })?;
        Ok(Floor { tx, consumer })
    }

    #[inline(always)]
    fn call(&self, i: u64) {
        let _ = self.tx.send(FloorEvent::capture(i));
    }

    fn finish(self) {
        drop(self.tx);
        let _ = self.consumer.join();
    }
}

/// Seed 001's AC3 in Rust: what a lazy logger must capture at the least,
/// pushed into a bounded channel; the consumer only drops it.
type MinimalEvent = (
    Level,
    &'static str,
    Fields,
    SystemTime,
    Option<Arc<Context>>,
);

/// The benches' three fields as a list of their own.
#[inline(always)]
fn minimal_fields(i: u64) -> Fields {
    let mut fields = Fields::new();
    fields.push(Field::new("user_id", i));
    fields.push(Field::new("path", PATH));
    fields.push(Field::new("latency_ms", 12.5));
    fields
}

struct MinimalCapture {
    tx: crossbeam_channel::Sender<MinimalEvent>,
    consumer: std::thread::JoinHandle<()>,
}

impl MinimalCapture {
    fn new(capacity: usize) -> MinimalCapture {
        let (tx, rx) = crossbeam_channel::bounded::<MinimalEvent>(capacity);
        let consumer = std::thread::spawn(move || rx.into_iter().for_each(drop));
        MinimalCapture { tx, consumer }
    }

    #[inline(always)]
    fn call(&self, i: u64, context: &Option<Arc<Context>>) {
        let raw = (
            Level::Info,
            "request handled",
            minimal_fields(i),
            SystemTime::now(),
            context.clone(),
        );
        let _ = self.tx.send(raw);
    }

    fn finish(self) {
        drop(self.tx);
        let _ = self.consumer.join();
    }
}

// ---- the writer ----

/// The numeric fields of a `/proc/.../stat` file after the command name
/// (index 0 is field 3, `state`, which parses as 0). Linux only.
fn proc_stat(path: &Path) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// Clock ticks per second of `utime`/`stime` (`USER_HZ`, 100 on Linux).
const USER_HZ: u64 = 100;

/// CPU time (user + system, 10-ms ticks) a named thread of this process has run.
fn thread_cpu_ns(name: &str) -> Option<u64> {
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = proc_stat(&entry.path().join("stat"))?;
            let ticks = stat.get(11)? + stat.get(12)?;
            return Some(ticks * (1_000_000_000 / USER_HZ));
        }
    }
    None
}

/// Like [`thread_cpu_ns`], first waiting up to a second for a thread just
/// spawned to name itself.
fn named_thread_cpu_ns(name: &str) -> Option<u64> {
    let start = Instant::now();
    loop {
        let cpu = thread_cpu_ns(name);
        if cpu.is_some() || start.elapsed() > Duration::from_secs(1) {
            return cpu;
        }
        std::thread::yield_now();
    }
}

/// Minor page faults taken by the calling thread so far.
fn own_minor_faults() -> Option<u64> {
    proc_stat(Path::new("/proc/thread-self/stat"))?
        .get(7)
        .copied()
}

/// The real writer's cost per event, end to end: `events` enabled calls into
/// a default pipeline writing JSON to a file.
#[derive(Debug, Clone, Copy, Serialize)]
struct EndToEnd {
    events: u64,
    wall_ns_per_event: f64,
    events_per_sec: f64,
    /// The consumer thread's CPU time per event (`None` off Linux).
    consumer_cpu_ns_per_event: Option<f64>,
    mean_batch: f64,
    bytes_per_event: f64,
}

fn writer_end_to_end(opts: &Options, dir: &Path) -> Result<EndToEnd, Box<dyn Error>> {
    let path = dir.join("writer.log");
    let (pipeline, guard) = Pipeline::builder()
        .capacity(16_384)
        .overflow(BLOCK)
        .sink(FileSink::builder(&path).build()?, JsonFormat::new())
        .thread_name(WRITER_THREAD)
        .build()?;
    let log = profiled_logger(&pipeline, opts.bound_context);
    let cpu_before = named_thread_cpu_ns(WRITER_THREAD);
    let start = Instant::now();
    for i in 0..opts.writer_events {
        log_one(&log, i);
    }
    if !pipeline.flush() {
        return Err("the writer did not finish in time".into());
    }
    let wall = start.elapsed();
    let cpu_after = thread_cpu_ns(WRITER_THREAD);
    let metrics = pipeline.metrics();
    finish(guard)?;
    let events = opts.writer_events;
    Ok(EndToEnd {
        events,
        wall_ns_per_event: wall.as_nanos() as f64 / events as f64,
        events_per_sec: events as f64 / wall.as_secs_f64(),
        consumer_cpu_ns_per_event: cpu_before
            .zip(cpu_after)
            .map(|(a, b)| (b - a) as f64 / events as f64),
        mean_batch: events as f64 / metrics.batches.max(1) as f64,
        bytes_per_event: std::fs::metadata(&path)?.len() as f64 / events as f64,
    })
}

fn floor_end_to_end(opts: &Options, dir: &Path) -> std::io::Result<EndToEnd> {
    let path = dir.join("floor.log");
    let floor = Floor::new(16_384, Some(&path))?;
    let cpu_before = named_thread_cpu_ns(FLOOR_THREAD);
    let start = Instant::now();
    for i in 0..opts.writer_events {
        floor.call(i);
    }
    // The consumer's CPU time is read while it still exists: wait for it to drain.
    while !floor.tx.is_empty() {
        std::thread::yield_now();
    }
    let cpu_after = thread_cpu_ns(FLOOR_THREAD);
    floor.finish();
    let wall = start.elapsed();
    let events = opts.writer_events;
    Ok(EndToEnd {
        events,
        wall_ns_per_event: wall.as_nanos() as f64 / events as f64,
        events_per_sec: events as f64 / wall.as_secs_f64(),
        consumer_cpu_ns_per_event: cpu_before
            .zip(cpu_after)
            .map(|(a, b)| (b - a) as f64 / events as f64),
        mean_batch: 1.0,
        bytes_per_event: std::fs::metadata(&path)?.len() as f64 / events as f64,
    })
}

/// The writer's per-event work, step by step, on batches produced by another thread.
fn writer_steps(
    opts: &Options,
    cal: &Calibration,
    batch: usize,
    dir: &Path,
) -> Result<Vec<(String, Stats)>, Box<dyn Error>> {
    let queue = Arc::new(QueueProbe::new(batch * 2));
    let (go_tx, go_rx) = mpsc::channel::<bool>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let producer = {
        let queue = Arc::clone(&queue);
        let context = opts.bound_context.then(|| {
            let log = profiled_logger(&Pipeline::closed(), true);
            Arc::new(log.context().cloned().unwrap_or_default())
        });
        std::thread::spawn(move || {
            while go_rx.recv().unwrap_or(false) {
                for i in 0..batch as u64 {
                    let event = assemble_event(Timestamp::now(), i, context.clone());
                    queue.push(event);
                }
                if done_tx.send(()).is_err() {
                    return;
                }
            }
        })
    };
    let mut stages = StagesProbe::new(Redactor::new());
    let enrichment_fields = Enrichment::new().resolve();
    let static_fields = enrichment_fields.len();
    let mut enrichment = enrichment_fields.clone();
    let mut plain_format = JsonFormat::new();
    let mut format = JsonFormat::new();
    let mut plain_buf = Vec::with_capacity(64 * 1024);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut sink = FileSink::builder(dir.join("steps.log")).build()?;
    let mut taken = VecDeque::with_capacity(batch * 2);

    let names = [
        "dequeue (take the batch, per event)",
        "stage hand-off (enrichers, processors: none by default; move to the output list)",
        "processors: redaction (default rules)",
        "envelope build",
        "encoding: JSON, the event's own keys",
        "enrichers: `host.name`, `process.pid` (their encoding)",
        "write (file sink, one call per batch)",
        "free events (drop on the writer)",
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // As many events as the end-to-end run wrote (the file grows by as much), at least 20 batches.
    let rounds = (opts.writer_events as usize / batch).max(20);
    let timed = |start: Instant| per_call(start.elapsed(), batch, cal, 0.0);
    for round in 0..rounds {
        go_tx.send(true)?;
        done_rx.recv()?;

        let start = Instant::now();
        let got = queue.take_batch(&mut taken);
        samples[0].push(timed(start));
        if got != batch {
            return Err(format!("expected a batch of {batch}, took {got}").into());
        }

        let start = Instant::now();
        for event in taken.drain(..) {
            stages.process(event);
        }
        samples[1].push(timed(start));

        let start = Instant::now();
        stages.redact();
        samples[2].push(timed(start));

        let start = Instant::now();
        for event in stages.events() {
            enrichment.truncate(static_fields);
            black_box(Envelope::enriched(event, &enrichment));
        }
        samples[3].push(timed(start));

        // The writer encodes once, with enrichment; the plain pass splits that
        // cost into the event's own keys and the enrichment fields. The two
        // passes alternate, so neither is always the one with warm caches.
        plain_buf.clear();
        buf.clear();
        let mut plain = || {
            let start = Instant::now();
            for event in stages.events() {
                plain_format.encode(&Envelope::new(event), &mut plain_buf);
            }
            timed(start)
        };
        let mut enriched = || {
            let start = Instant::now();
            for event in stages.events() {
                format.encode(&Envelope::enriched(event, &enrichment), &mut buf);
            }
            timed(start)
        };
        let (plain_ns, enriched_ns) = if round % 2 == 0 {
            let p = plain();
            (p, enriched())
        } else {
            let e = enriched();
            (plain(), e)
        };
        samples[4].push(plain_ns);
        samples[5].push(enriched_ns - plain_ns);

        let start = Instant::now();
        sink.write(&buf)?;
        samples[6].push(timed(start));

        let start = Instant::now();
        stages.clear();
        samples[7].push(timed(start));
    }
    drop(go_tx);
    let _ = producer.join();
    sink.flush()?;
    Ok(names
        .iter()
        .zip(samples)
        .map(|(name, s)| ((*name).to_owned(), Stats::of(s)))
        .collect())
}

/// What the floor's consumer does per event: `serde_json` into a buffer, written per batch.
fn floor_consumer_steps(opts: &Options, cal: &Calibration, batch: usize) -> Stats {
    let events: Vec<FloorEvent> = (0..batch as u64).map(FloorEvent::capture).collect();
    let mut out = Vec::with_capacity(64 * 1024);
    let rounds = (opts.writer_events as usize / batch).max(20);
    Stats::of(sample(rounds, || {
        out.clear();
        let start = Instant::now();
        for event in &events {
            let _ = serde_json::to_writer(&mut out, event);
            out.push(b'\n');
        }
        per_call(start.elapsed(), batch, cal, 0.0)
    }))
}

struct WriterReport {
    breakdown: Breakdown,
    end_to_end: Table,
    fapilog: EndToEnd,
    floor: EndToEnd,
}

fn writer_section(opts: &Options, cal: &Calibration) -> Result<WriterReport, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let fapilog = writer_end_to_end(opts, dir.path())?;
    let floor = floor_end_to_end(opts, dir.path())?;
    let batch = opts
        .writer_batch
        .unwrap_or(fapilog.mean_batch.round() as usize)
        .clamp(16, 65_536);
    let parts = writer_steps(opts, cal, batch, dir.path())?;
    let floor_encode = floor_consumer_steps(opts, cal, batch);
    let total_ns = fapilog
        .consumer_cpu_ns_per_event
        .unwrap_or(fapilog.wall_ns_per_event);
    let total = Stats {
        mean: total_ns,
        p50: total_ns,
        p99: f64::NAN,
    };
    let title = format!(
        "Writer, per event (ns; steps timed on batches of {batch} events made on another thread; \
         TOTAL = the writer thread's CPU time per event over {} events, default stages, JSON to a file)",
        opts.writer_events
    );
    let breakdown = Breakdown::new(&title, parts, total);
    let mut end_to_end = Table::new(
        "End to end, one producer, lossless, JSON to a file (same run)",
        &[
            "events/s",
            "wall ns/event",
            "consumer CPU ns/event",
            "bytes/event",
            "mean batch",
        ],
    );
    for (name, e) in [
        (
            "fapilog, default stages (redaction, host.name, process.pid)",
            fapilog,
        ),
        ("floor (crossbeam + serde_json + BufWriter)", floor),
    ] {
        end_to_end.row(
            name,
            vec![
                e.events_per_sec,
                e.wall_ns_per_event,
                e.consumer_cpu_ns_per_event.unwrap_or(f64::NAN),
                e.bytes_per_event,
                e.mean_batch,
            ],
        );
    }
    end_to_end.row(
        "floor consumer's serde_json alone, per event (batched, p50)",
        vec![f64::NAN, f64::NAN, floor_encode.p50, f64::NAN, f64::NAN],
    );
    Ok(WriterReport {
        breakdown,
        end_to_end,
        fapilog,
        floor,
    })
}

// ---- field copy costs ----

const USER: &str = "u-7f3a9c21";
const ACTION: &str = "checkout.submit";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 (profile; build 42)";
const REFERER: &str =
    "https://shop.example.com/cart?items=3&coupon=SPRING-24&utm_source=newsletter&ref=home&lang=en-GB&currency=EURO";

/// Builds one call's fields.
type FieldsMaker<'a> = Box<dyn FnMut() -> Fields + 'a>;

fn copy_costs(opts: &Options, cal: &Calibration) -> Table {
    let payload_bytes = USER.len() + ACTION.len() + USER_AGENT.len() + REFERER.len();
    let n = opts.batch;
    let batches = opts.batches * opts.rounds;
    // Borrowed from the caller's (non-static) strings.
    let owned: [String; 4] = [USER, ACTION, USER_AGENT, REFERER].map(String::from);
    let bound = Pipeline::closed().logger().with_fields([
        Field::new("user", USER),
        Field::new("action", ACTION),
        Field::new("user_agent", USER_AGENT),
        Field::new("referer", REFERER),
    ]);
    let context = bound.context().map(|c| Arc::new(c.clone()));

    let mut out: Vec<Fields> = Vec::with_capacity(n);
    let mut measure = |make: &mut dyn FnMut() -> Fields| -> (Stats, Stats, f64) {
        let mut capture = Vec::new();
        let mut free = Vec::new();
        let mut allocs = 0;
        for _ in 0..batches {
            out.clear();
            let before = allocations();
            let start = Instant::now();
            for _ in 0..n {
                out.push(make());
            }
            capture.push(per_call(start.elapsed(), n, cal, cal.loop_ns));
            allocs += allocations() - before;
            let start = Instant::now();
            out.clear();
            free.push(per_call(start.elapsed(), n, cal, 0.0));
        }
        (
            Stats::of(capture),
            Stats::of(free),
            allocs as f64 / (batches * n) as f64,
        )
    };
    let mut table = Table::new(
        &format!(
            "Field copy costs, a {payload_bytes}-byte payload in 4 string fields (ns per call)"
        ),
        &[
            "capture mean",
            "capture p50",
            "capture p99",
            "allocs/call",
            "free p50 (writer)",
        ],
    );
    let cases: Vec<(&str, FieldsMaker<'_>)> = vec![
        (
            "borrowed: `&'static str` as `Value::Static` (no copy)",
            Box::new(|| {
                let mut f = Fields::new();
                f.push(Field::new("user", Value::from_static(black_box(USER))));
                f.push(Field::new("action", Value::from_static(black_box(ACTION))));
                f.push(Field::new(
                    "user_agent",
                    Value::from_static(black_box(USER_AGENT)),
                ));
                f.push(Field::new(
                    "referer",
                    Value::from_static(black_box(REFERER)),
                ));
                f
            }),
        ),
        (
            "copied from `&str` (inline ≤ 22 B, else one heap copy)",
            Box::new(|| {
                let s = black_box(&owned);
                let mut f = Fields::new();
                f.push(Field::new("user", s[0].as_str()));
                f.push(Field::new("action", s[1].as_str()));
                f.push(Field::new("user_agent", s[2].as_str()));
                f.push(Field::new("referer", s[3].as_str()));
                f
            }),
        ),
        (
            "cloned `String`s moved in",
            Box::new(|| {
                let s = black_box(&owned);
                let mut f = Fields::new();
                f.push(Field::new("user", s[0].clone()));
                f.push(Field::new("action", s[1].clone()));
                f.push(Field::new("user_agent", s[2].clone()));
                f.push(Field::new("referer", s[3].clone()));
                f
            }),
        ),
    ];
    for (name, mut make) in cases {
        let (capture, free, allocs) = measure(&mut *make);
        table.row(
            name,
            vec![capture.mean, capture.p50, capture.p99, allocs, free.p50],
        );
    }
    // `Arc`: the payload bound once to the logger; each call takes a reference.
    let mut snapshots: Vec<Option<Arc<Context>>> = Vec::with_capacity(n);
    let mut capture = Vec::new();
    let mut free = Vec::new();
    let before = allocations();
    for _ in 0..batches {
        snapshots.clear();
        let start = Instant::now();
        for _ in 0..n {
            snapshots.push(black_box(&context).clone());
        }
        capture.push(per_call(start.elapsed(), n, cal, cal.loop_ns));
        let start = Instant::now();
        snapshots.clear();
        free.push(per_call(start.elapsed(), n, cal, 0.0));
    }
    let allocs = (allocations() - before) as f64 / (batches * n) as f64;
    let (capture, free) = (Stats::of(capture), Stats::of(free));
    table.row(
        "`Arc`: bound once (`Logger::with_fields`), one `Arc<Context>` clone per call",
        vec![capture.mean, capture.p50, capture.p99, allocs, free.p50],
    );
    table
}

// ---- error capture ----

/// An error at `depth` in a chain; the top is depth 0.
#[derive(Debug)]
struct Layer {
    depth: usize,
    source: Option<Box<Layer>>,
}

impl Layer {
    /// An error with `sources` errors below it in its `source()` chain.
    fn with_sources(sources: usize) -> Layer {
        let bottom = Layer {
            depth: sources,
            source: None,
        };
        (0..sources).rev().fold(bottom, |below, depth| Layer {
            depth,
            source: Some(Box::new(below)),
        })
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "layer {} failed: the call below it returned an error",
            self.depth
        )
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Runs `f` with `depth` more frames on the stack.
#[inline(never)]
fn at_depth(depth: usize, f: &mut dyn FnMut()) {
    if depth == 0 {
        f();
    } else {
        at_depth(black_box(depth - 1), f);
        // Work after the call keeps it from becoming a tail call.
        black_box(depth);
    }
}

fn error_costs(opts: &Options, cal: &Calibration) -> Table {
    let mut table = Table::new(
        "Error capture at the call (ns per captured error)",
        &[
            "capture mean",
            "capture p50",
            "capture p99",
            "allocs/capture",
            "frames",
            "render p50 (writer)",
        ],
    );
    let n = 32;
    let batches = (opts.batches * opts.rounds / 4).max(10);
    for depth in [1, 5, 20] {
        let err = Layer::with_sources(depth);
        debug_assert_eq!(CapturedError::new(&err).chain().len(), depth);
        let mut out: Vec<CapturedError> = Vec::with_capacity(n);
        let before = allocations();
        let samples = sample(batches, || {
            out.clear();
            let start = Instant::now();
            for _ in 0..n {
                out.push(CapturedError::new(black_box(&err)));
            }
            per_call(start.elapsed(), n, cal, 0.0)
        });
        let allocs = (allocations() - before) as f64 / (batches * n) as f64;
        let s = Stats::of(samples);
        table.row(
            format!("source chain of {depth} (`CapturedError::new`)"),
            vec![s.mean, s.p50, s.p99, allocs, f64::NAN, f64::NAN],
        );
    }
    let io = std::io::Error::other("connection reset by peer");
    let bt_batches = (opts.batches * opts.rounds / 20).max(5);
    let bt_n = 8;
    let mut first_render = None;
    for depth in [10, 25, 50] {
        let mut samples = Vec::new();
        let mut captured: Vec<CapturedError> = Vec::new();
        let mut allocs = 0;
        at_depth(depth, &mut || {
            for _ in 0..bt_batches {
                let mut batch = Vec::with_capacity(bt_n);
                let before = allocations();
                let start = Instant::now();
                for _ in 0..bt_n {
                    batch.push(CapturedError::new(black_box(&io)).with_backtrace());
                }
                samples.push(per_call(start.elapsed(), bt_n, cal, 0.0));
                allocs += allocations() - before;
                captured.extend(batch);
            }
        });
        // Rendering resolves symbols; the first render in the process also loads them.
        let mut renders = Vec::new();
        let mut frames = 0;
        for c in captured.iter().take(11) {
            let start = Instant::now();
            let text = c.backtrace().unwrap_or_default();
            let ns = start.elapsed().as_nanos() as f64;
            match first_render {
                None => first_render = Some(ns),
                Some(_) => renders.push(ns),
            }
            frames = text
                .lines()
                .filter(|l| {
                    let t = l.trim_start();
                    t.split_once(": ").is_some_and(|(n, _)| {
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                    })
                })
                .count();
        }
        let s = Stats::of(samples);
        let r = Stats::of(renders);
        table.row(
            format!("`.with_backtrace()` at recursion depth {depth}"),
            vec![
                s.mean,
                s.p50,
                s.p99,
                allocs as f64 / (bt_batches * bt_n) as f64,
                frames as f64,
                r.p50,
            ],
        );
    }
    table.row(
        "first backtrace render in the process (loads symbols, once)",
        vec![
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            first_render.unwrap_or(f64::NAN),
        ],
    );
    table
}

// ---- the flame-graph workload ----

fn workload(calls: u64) -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let (pipeline, guard) = Pipeline::builder()
        .capacity(16_384)
        .overflow(BLOCK)
        .sink(
            FileSink::builder(dir.path().join("loop.log")).build()?,
            JsonFormat::new(),
        )
        .build()?;
    let log = pipeline.logger();
    let start = Instant::now();
    for i in 0..calls {
        log_one(&log, black_box(i));
    }
    finish(guard)?;
    let elapsed = start.elapsed();
    eprintln!(
        "{calls} enabled calls written in {:.2} s ({:.0} events/s end to end)",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

// ---- main ----

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unavailable".to_owned())
}

fn main() -> Result<(), Box<dyn Error>> {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{HELP}");
            return Ok(());
        }
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Some(calls) = opts.loop_calls {
        return workload(calls);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for meaningful figures");
    }
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let load_before = loadavg();
    println!("# fapilog hot-path profile");
    println!("\nunix time {started}; /proc/loadavg before: {load_before}");
    let cal = calibrate(opts.batch);
    println!(
        "timer: one Instant pair {:.1} ns (p50); empty loop {:.2} ns per iteration (subtracted from call-site rows)",
        cal.timer_pair_ns, cal.loop_ns
    );
    let sizes = json!({
        "RawEvent": std::mem::size_of::<fapilog::RawEvent>(),
        "Fields": std::mem::size_of::<Fields>(),
        "Field": std::mem::size_of::<Field>(),
        "floor_event": std::mem::size_of::<FloorEvent>(),
    });
    println!("sizes (bytes): {sizes}");
    let mut report = json!({
        "sizes": sizes,
        "unix_time": started,
        "loadavg_before": load_before,
        "options": {
            "batch": opts.batch,
            "batches": opts.batches,
            "rounds": opts.rounds,
            "writer_events": opts.writer_events,
            "bound_context": opts.bound_context,
        },
        "calibration": cal,
    });
    if opts.runs("call") {
        let (breakdown, floors) = call_site(&opts, &cal)?;
        print!("{breakdown}{floors}");
        report["call_site"] = serde_json::to_value(&breakdown)?;
        report["floors"] = serde_json::to_value(&floors)?;
    }
    if opts.runs("writer") {
        let writer = writer_section(&opts, &cal)?;
        print!("{}{}", writer.breakdown, writer.end_to_end);
        report["writer"] = serde_json::to_value(&writer.breakdown)?;
        report["end_to_end"] = json!({
            "fapilog": writer.fapilog,
            "floor": writer.floor,
            "table": writer.end_to_end,
        });
    }
    if opts.runs("copy") {
        let table = copy_costs(&opts, &cal);
        print!("{table}");
        report["field_copy"] = serde_json::to_value(&table)?;
    }
    if opts.runs("errors") {
        let table = error_costs(&opts, &cal);
        print!("{table}");
        report["error_capture"] = serde_json::to_value(&table)?;
    }
    let load_after = loadavg();
    println!("\n/proc/loadavg after: {load_after}");
    report["loadavg_after"] = json!(load_after);
    if let Some(path) = &opts.output {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
