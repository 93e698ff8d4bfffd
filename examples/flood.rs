//! Flood soak (issue 7): attackers make a real server log INFO events at many
//! times a slow sink's speed while a well-behaved client keeps making
//! requests that log WARN and ERROR events. Reports peak RSS against a cap,
//! whether every WARN/ERROR reached the sink, and the client's latency under
//! the flood as a ratio to its unflooded value.
//!
//! ```text
//! cargo run --release --example flood -- [SECONDS_PER_PHASE] [RSS_CAP_MIB]
//! ```
//!
//! Three phases of `SECONDS_PER_PHASE` (default 5) each: the client alone
//! (baseline), the client under the flood with the slow sink, and the same
//! flood with a sink that costs nothing (to tell CPU contention from logging
//! back-pressure). Exits non-zero when a check fails.
#![allow(missing_docs)]

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::Sink;
use fapilog::{error, info, warn, Logger};
use fapilog_axum::FapilogLayer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the slow sink can write: this many lines per second.
const SINK_LINES_PER_SECOND: u64 = 20_000;
/// INFO events each attacking request makes the server log.
const EVENTS_PER_ATTACK: u64 = 100;
/// Concurrent attacking connections.
const ATTACKERS: usize = 8;

/// Counts what reaches it; when `slow`, takes the time a sink of
/// [`SINK_LINES_PER_SECOND`] would.
#[derive(Clone, Default)]
struct CountingSink {
    slow: bool,
    lines: Arc<AtomicU64>,
    client_warn: Arc<AtomicU64>,
    client_error: Arc<AtomicU64>,
}

impl Sink for CountingSink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        let text = std::str::from_utf8(batch).map_err(io::Error::other)?;
        let mut lines = 0;
        for line in text.lines() {
            lines += 1;
            if line.contains("\"msg\":\"client warn\"") {
                self.client_warn.fetch_add(1, Ordering::Relaxed);
            } else if line.contains("\"msg\":\"client error\"") {
                self.client_error.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.lines.fetch_add(lines, Ordering::Relaxed);
        if self.slow {
            std::thread::sleep(Duration::from_micros(
                lines * 1_000_000 / SINK_LINES_PER_SECOND,
            ));
        }
        Ok(())
    }

    fn name(&self) -> String {
        if self.slow { "slow" } else { "fast" }.to_owned()
    }
}

async fn spam(log: Logger) -> &'static str {
    for n in 0..EVENTS_PER_ATTACK {
        info!(
            log,
            "attacker noise",
            n,
            payload = "x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x"
        );
    }
    "ok"
}

async fn checkout(log: Logger) -> StatusCode {
    info!(log, "checkout started");
    warn!(log, "client warn", step = "payment");
    error!(log, "client error", step = "payment");
    StatusCode::OK
}

/// One GET on a fresh connection; returns how long it took.
async fn request(addr: SocketAddr, path: &str) -> io::Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!("GET {path} HTTP/1.1\r\nhost: flood\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    if !response.starts_with(b"HTTP/1.1 200") {
        return Err(io::Error::other("not a 200"));
    }
    Ok(started.elapsed())
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// Latency percentiles of a phase, in microseconds.
struct Latency {
    requests: usize,
    p50: f64,
    p99: f64,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        Latency {
            requests: samples.len(),
            p50: at(0.5),
            p99: at(0.99),
        }
    }
}

struct Phase {
    latency: Latency,
    submitted: u64,
    written: u64,
    dropped: u64,
    warn_sent: u64,
    warn_seen: u64,
    error_seen: u64,
    seconds: f64,
}

/// Runs one phase: a server over a fresh pipeline, the client, and `flood` attackers.
fn phase(seconds: u64, flood: bool, slow: bool) -> Result<Phase, Box<dyn std::error::Error>> {
    let sink = CountingSink {
        slow,
        ..CountingSink::default()
    };
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .build()?;
    let layer = FapilogLayer::builder().pipeline(pipeline.clone()).build()?;
    let app = Router::new()
        .route("/spam", get(spam))
        .route("/checkout", get(checkout))
        .layer(layer);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = server.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server.spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });

    let running = Arc::new(AtomicBool::new(true));
    let attackers: Vec<_> = (0..if flood { ATTACKERS } else { 0 })
        .map(|_| {
            let running = running.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("attacker runtime");
                rt.block_on(async {
                    while running.load(Ordering::Relaxed) {
                        let _ = request(addr, "/spam").await;
                    }
                });
            })
        })
        .collect();

    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let samples = client.block_on(async {
        let mut samples = Vec::new();
        while Instant::now() < deadline {
            if let Ok(d) = request(addr, "/checkout").await {
                samples.push(d);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        samples
    });
    running.store(false, Ordering::Relaxed);
    for a in attackers {
        let _ = a.join();
    }
    let _ = stop.send(());
    let _ = server.block_on(serving);
    let elapsed = started.elapsed().as_secs_f64();
    let report = guard.shutdown(Duration::from_secs(30));
    let m = report.metrics;
    let warn_sent = samples.len() as u64;
    Ok(Phase {
        latency: Latency::of(samples),
        submitted: m.submitted,
        written: m.written,
        dropped: m.dropped.total(),
        warn_sent,
        warn_seen: sink.client_warn.load(Ordering::Relaxed),
        error_seen: sink.client_error.load(Ordering::Relaxed),
        seconds: elapsed,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let seconds = args.first().copied().unwrap_or(5).clamp(1, 120);
    let cap_mib = args.get(1).copied().unwrap_or(256);

    let baseline = phase(seconds, false, true)?;
    let flooded = phase(seconds, true, true)?;
    let control = phase(seconds, true, false)?;

    println!("phase              requests  p50_us  p99_us  submitted/s  written/s  dropped  warn sent/seen  error seen");
    for (name, p) in [
        ("baseline", &baseline),
        ("flood, slow sink", &flooded),
        ("flood, free sink", &control),
    ] {
        println!(
            "{name:<18} {:>8}  {:>6.0}  {:>6.0}  {:>11.0}  {:>9.0}  {:>7}  {:>6}/{:<6}  {:>10}",
            p.latency.requests,
            p.latency.p50,
            p.latency.p99,
            p.submitted as f64 / p.seconds,
            p.written as f64 / p.seconds,
            p.dropped,
            p.warn_sent,
            p.warn_seen,
            p.error_seen,
        );
    }
    let offered = flooded.submitted as f64 / flooded.seconds;
    let sink_speed = SINK_LINES_PER_SECOND as f64;
    let p50_ratio = flooded.latency.p50 / baseline.latency.p50;
    let p99_ratio = flooded.latency.p99 / baseline.latency.p99;
    let control_p50 = control.latency.p50 / baseline.latency.p50;
    let peak = peak_rss_mib();
    println!(
        "offered load: {:.0}x the slow sink's speed ({offered:.0}/s vs {sink_speed:.0}/s)",
        offered / sink_speed
    );
    println!("client latency under flood / unflooded: p50 {p50_ratio:.2}x, p99 {p99_ratio:.2}x (free-sink control: p50 {control_p50:.2}x)");
    println!("peak RSS (VmHWM): {peak} MiB, cap {cap_mib} MiB");

    let mut failures = Vec::new();
    if peak > cap_mib {
        failures.push(format!("peak RSS {peak} MiB over the {cap_mib} MiB cap"));
    }
    for p in [&baseline, &flooded, &control] {
        if p.warn_seen != p.warn_sent || p.error_seen != p.warn_sent {
            failures.push(format!(
                "client WARN/ERROR lost: sent {} each, saw {} WARN and {} ERROR",
                p.warn_sent, p.warn_seen, p.error_seen
            ));
        }
    }
    if failures.is_empty() {
        println!("ok");
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}
