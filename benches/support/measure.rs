//! Measuring code shared by `benches/hot_path.rs` and `benches/compare.rs`
//! (allocations counted by `alloc_count.rs`): per-call latency percentiles, producer and
//! end-to-end throughput, events found in an output file, and the process's
//! peak resident memory.
#![allow(dead_code, unreachable_pub, unsafe_code)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use super::alloc_count::allocations;
use super::cases::{Case, Delivery, Producer};

/// Per-call latency (ns, one `Instant` pair around each call, timer included)
/// and allocations per call on the calling thread.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub allocs_per_call: f64,
    /// What the logger itself reports, when it counts.
    pub delivery: Option<Delivery>,
}

/// The `q` quantile of an ascending slice (nearest rank, rounded down).
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// Times each of `calls` calls on its own after `warmup` untimed calls; with
/// `pace`, starts one call per interval (spinning in between).
pub fn measure_latency(
    case: Box<dyn Case>,
    warmup: usize,
    calls: usize,
    pace: Option<Duration>,
) -> Latency {
    let mut producer = case.producer();
    for i in 0..warmup {
        producer.call(i as u64);
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
        producer.call(black_box(i as u64));
        samples.push(start.elapsed().as_nanos() as u64);
    }
    let allocs = allocations() - allocs_before;
    drop(producer);
    let delivery = case.finish();
    samples.sort_unstable();
    Latency {
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
        p999: percentile(&samples, 0.999),
        max: *samples.last().unwrap_or(&0),
        allocs_per_call: allocs as f64 / calls as f64,
        delivery,
    }
}

/// The p50 of an empty `Instant` pair: what every latency sample includes.
pub fn timer_overhead(samples: usize) -> u64 {
    let mut samples: Vec<u64> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            start.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    percentile(&samples, 0.5)
}

/// Timings of `events` calls spread over producer threads.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// From the common start until the last producer's last call returned.
    pub producer: Duration,
    /// From the common start until `finish` returned (everything written).
    pub end_to_end: Duration,
    /// What the logger itself reports, when it counts.
    pub delivery: Option<Delivery>,
}

impl Throughput {
    /// Calls per second seen by the producers.
    pub fn producer_rate(&self, events: u64) -> f64 {
        events as f64 / self.producer.as_secs_f64()
    }

    /// Events per second until the last one was written.
    pub fn end_to_end_rate(&self, events: u64) -> f64 {
        events as f64 / self.end_to_end.as_secs_f64()
    }
}

/// Makes `events` calls from `threads` producer threads (each its own
/// producer, released together), then waits for everything to be written.
/// One producer runs on the calling thread (a thread-scoped subscriber sees it).
pub fn measure_throughput(case: Box<dyn Case>, threads: usize, events: u64) -> Throughput {
    let (start, last_done) = if threads <= 1 {
        let mut producer = case.producer();
        let start = Instant::now();
        for i in 0..events {
            producer.call(i);
        }
        (start, Instant::now())
    } else {
        produce_on_threads(case.as_ref(), threads, events)
    };
    let delivery = case.finish();
    Throughput {
        producer: last_done.saturating_duration_since(start),
        end_to_end: start.elapsed(),
        delivery,
    }
}

/// The common start and the last producer's end.
fn produce_on_threads(case: &dyn Case, threads: usize, events: u64) -> (Instant, Instant) {
    let per_thread = events / threads as u64;
    let barrier = Barrier::new(threads + 1);
    let producers: Vec<Box<dyn Producer>> = (0..threads).map(|_| case.producer()).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = producers
            .into_iter()
            .enumerate()
            .map(|(t, mut producer)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let first = t as u64 * per_thread;
                    barrier.wait();
                    for i in first..first + per_thread {
                        producer.call(i);
                    }
                    Instant::now()
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let last_done = handles
            .into_iter()
            .map(|h| h.join().expect("producer thread"))
            .max()
            .unwrap_or(start);
        (start, last_done)
    })
}

/// Lines holding the event's message, and bytes per such line, in a log file.
#[derive(Debug, Clone, Copy)]
pub struct FileCount {
    pub events: u64,
    pub bytes_per_event: u64,
}

/// Counts the lines of `path` that hold `needle` (other lines, such as a
/// logger's own "messages dropped" reports, are not the event).
pub fn count_events(path: &Path, needle: &str) -> FileCount {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let events = text.lines().filter(|l| l.contains(needle)).count() as u64;
    FileCount {
        events,
        bytes_per_event: text.len() as u64 / events.max(1),
    }
}

/// Resets the process's peak resident set size (`VmHWM`) to the current one
/// (Linux `clear_refs`); false where that is not available.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident set size in KiB (`VmHWM`), where readable.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
