//! The fapilog demo: several producer threads, a file and a stdout sink, a
//! forced overflow, then the drain reports.
//!
//! ```text
//! cargo run --release --example demo
//! ```
#![allow(missing_docs)]

use std::error::Error;
use std::fmt;
use std::path::Path;
use std::thread;
use std::time::Duration;

use fapilog::format::{ColorChoice, JsonFormat, PrettyFormat};
use fapilog::pipeline::{OverflowPolicy, Pipeline};
use fapilog::sink::{FileSink, StdoutSink};
use fapilog::{error, info, warn};

const PRODUCERS: u64 = 4;
const BURST_PER_PRODUCER: u64 = 50_000;

#[derive(Debug)]
struct GatewayError(std::io::Error);

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment gateway refused the charge")
    }
}

impl Error for GatewayError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

/// Producers log through a pipeline writing pretty lines to stdout and JSON to a rotating file.
fn producers(dir: &Path) -> Result<(), Box<dyn Error>> {
    let file = FileSink::builder(dir.join("app.log"))
        .max_bytes(1 << 20)
        .retain(3)
        .build()?;
    let (pipeline, guard) = Pipeline::builder()
        .sink(
            StdoutSink::new(),
            PrettyFormat::new().color(ColorChoice::Auto),
        )
        .sink(file, JsonFormat::new())
        .build()?;
    let workers: Vec<_> = (0..PRODUCERS)
        .map(|worker| {
            let log = pipeline.logger().bind("worker", worker);
            thread::spawn(move || {
                info!(
                    log,
                    "order created",
                    order_id = 1000 + worker,
                    amount = 19.99
                );
                warn!(log, "slow downstream", latency_ms = 250 + worker * 10);
                if worker == 0 {
                    let cause = std::io::Error::other("connection reset by peer");
                    error!(
                        log,
                        "payment failed",
                        error = &GatewayError(cause),
                        order_id = 1000u64
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "producer thread panicked")?;
    }
    let report = guard.shutdown(Duration::from_secs(5));
    println!("\napp pipeline: {report}");
    Ok(())
}

/// A burst far faster than the file can take, into a small queue: drops are
/// counted and reported in-band, and the drain loses nothing it accepted.
fn forced_overflow(dir: &Path) -> Result<(), Box<dyn Error>> {
    let path = dir.join("burst.log");
    let (pipeline, guard) = Pipeline::builder()
        .capacity(1024)
        .overflow(OverflowPolicy::DropOldest)
        .sink(FileSink::builder(&path).build()?, JsonFormat::new())
        .build()?;
    let workers: Vec<_> = (0..PRODUCERS)
        .map(|worker| {
            let log = pipeline.logger().bind("worker", worker);
            thread::spawn(move || {
                for n in 0..BURST_PER_PRODUCER {
                    info!(log, "burst", n);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "producer thread panicked")?;
    }
    let report = guard.shutdown(Duration::from_secs(10));
    let m = &report.metrics;
    let text = std::fs::read_to_string(&path)?;
    let loss_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""target":"fapilog""#))
        .collect();
    println!("burst pipeline: {report}");
    println!(
        "  submitted {} = written {} + dropped {} (overflow) + failed {}  -> balanced: {}",
        m.submitted,
        m.written,
        m.dropped.overflow,
        m.failed,
        m.is_balanced()
    );
    println!(
        "  queue high-water {} of {}, {} batches, {} in-band loss records in burst.log, e.g.:",
        m.queue_high_water,
        m.queue_capacity,
        m.batches,
        loss_lines.len()
    );
    if let Some(line) = loss_lines.first() {
        println!("  {line}");
    }
    println!(
        "  lines in burst.log: {} (= written + loss records: {})",
        text.lines().count(),
        m.written + m.loss_records
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("fapilog-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    producers(&dir)?;
    forced_overflow(&dir)?;
    println!("logs written under {}", dir.display());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
