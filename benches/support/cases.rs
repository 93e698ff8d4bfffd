//! The ways of logging the benches' event that more than one bench uses: the
//! floor (crossbeam + serde_json), fapilog, and `tracing` on
//! `tracing-appender::non_blocking`. Shared by `benches/hot_path.rs` and
//! `benches/compare.rs`; `examples/profile_hot_path.rs` takes the event from here.
//!
//! The event everywhere: INFO "request handled" with `user_id: u64`,
//! `path: &str`, `latency_ms: f64`.
#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fapilog::enrich::Enrichment;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::process::Redactor;
use fapilog::sink::{FileSink, NullSink};
use fapilog::{info, Level, Logger};
use serde::Serialize;

/// The event's `path` field.
pub const PATH: &str = "/api/v1/orders";
/// The event's message; a line of output holding it is one event.
pub const MESSAGE: &str = "request handled";

/// Logs the event with `user_id = i`; one per producer thread.
pub trait Producer: Send {
    fn call(&mut self, i: u64);
}

impl<F: FnMut(u64) + Send> Producer for F {
    #[inline]
    fn call(&mut self, i: u64) {
        self(i)
    }
}

/// What a logger reports about its own delivery, when it counts.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub written: u64,
    pub lost: u64,
}

/// One way of logging the event, set up fresh for each measurement.
pub trait Case {
    /// A producer for one thread. Every producer is dropped before `finish`.
    fn producer(&self) -> Box<dyn Producer>;
    /// Waits until everything logged so far is written.
    fn finish(self: Box<Self>) -> Option<Delivery>;
}

/// Where a case writes: a file, or nowhere (a null sink / `io::sink()`).
pub fn writer(file: Option<&Path>, buffered: bool) -> Box<dyn Write + Send> {
    match file {
        Some(path) => {
            let f = File::create(path).expect("create output file");
            if buffered {
                Box::new(BufWriter::new(f))
            } else {
                Box::new(f)
            }
        }
        None => Box::new(std::io::sink()),
    }
}

// ---- fapilog ----

/// fapilog with the JSON format, to a file or a null sink.
pub struct Fapilog {
    log: Logger,
    guard: WriterGuard,
}

/// `OverflowPolicy::Block` with a deadline no bench reaches.
pub const BLOCK: OverflowPolicy = OverflowPolicy::Block {
    timeout: Duration::from_secs(60),
};

impl Fapilog {
    pub fn new(file: Option<&Path>, capacity: usize, policy: OverflowPolicy) -> Self {
        Fapilog::with(file, capacity, policy, true, Level::Info)
    }

    /// `stages: false` turns the writer-side stages that are on by default
    /// (redaction, enrichment) off, to show what they cost; `level` above
    /// INFO makes every call a disabled one.
    pub fn with(
        file: Option<&Path>,
        capacity: usize,
        policy: OverflowPolicy,
        stages: bool,
        level: Level,
    ) -> Self {
        let builder = Pipeline::builder()
            .capacity(capacity)
            .overflow(policy)
            .level(level);
        let builder = if stages {
            builder
        } else {
            builder
                .redaction(Redactor::disabled())
                .enrichment(Enrichment::none())
        };
        let builder = match file {
            Some(path) => builder.sink(
                FileSink::builder(path).build().expect("file sink"),
                JsonFormat::new(),
            ),
            None => builder.sink(NullSink::new(), JsonFormat::new()),
        };
        let (pipeline, guard) = builder.build().expect("pipeline");
        Fapilog {
            log: pipeline.logger(),
            guard,
        }
    }
}

/// The benches' event, through the real macro.
#[inline(always)]
pub fn log_one(log: &Logger, i: u64) {
    info!(
        log,
        "request handled",
        user_id = i,
        path = PATH,
        latency_ms = 12.5
    );
}

impl Case for Fapilog {
    fn producer(&self) -> Box<dyn Producer> {
        let log = self.log.clone();
        Box::new(move |i: u64| log_one(&log, i))
    }

    fn finish(self: Box<Self>) -> Option<Delivery> {
        let Fapilog { log, guard } = *self;
        drop(log);
        let report = guard.shutdown(Duration::from_secs(120));
        Some(Delivery {
            written: report.written,
            lost: report.dropped + report.failed + report.undelivered,
        })
    }
}

// ---- floor: an owned struct through a bounded crossbeam channel, serialized by a thread ----

/// The event as the floor carries it: owned, with nanoseconds since the epoch.
#[derive(Serialize)]
pub struct FloorEvent {
    ts: u128,
    level: &'static str,
    msg: &'static str,
    user_id: u64,
    path: &'static str,
    latency_ms: f64,
}

impl FloorEvent {
    /// The event with `user_id = i`, stamped now.
    #[inline(always)]
    pub fn capture(i: u64) -> FloorEvent {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        FloorEvent {
            ts,
            level: "INFO",
            msg: MESSAGE,
            user_id: i,
            path: PATH,
            latency_ms: 12.5,
        }
    }
}

/// What any queue-based logger can hardly beat.
pub struct Floor {
    tx: crossbeam_channel::Sender<FloorEvent>,
    consumer: std::thread::JoinHandle<()>,
}

impl Floor {
    pub fn new(file: Option<&Path>, capacity: usize) -> Self {
        let (tx, rx) = crossbeam_channel::bounded::<FloorEvent>(capacity);
        let mut out = writer(file, true);
        let consumer = std::thread::spawn(move || {
            for event in rx {
                let _ = serde_json::to_writer(&mut out, &event);
                let _ = out.write_all(b"\n");
            }
            let _ = out.flush();
        });
        Floor { tx, consumer }
    }
}

impl Case for Floor {
    fn producer(&self) -> Box<dyn Producer> {
        let tx = self.tx.clone();
        Box::new(move |i: u64| {
            let _ = tx.send(FloorEvent::capture(i));
        })
    }

    fn finish(self: Box<Self>) -> Option<Delivery> {
        drop(self.tx);
        self.consumer.join().expect("floor consumer");
        None
    }
}

// ---- tracing + tracing-subscriber JSON + tracing-appender non_blocking ----

/// `tracing-appender::non_blocking`'s queue.
#[derive(Debug, Clone, Copy)]
pub enum TracingQueue {
    /// `lossy(false)` with this many lines: callers wait when it is full.
    Lossless(usize),
    /// The defaults: lossy, 128,000 lines.
    LossyDefault,
}

/// `tracing::info!` through `tracing-subscriber`'s JSON formatter on `non_blocking`.
pub struct Tracing {
    _default: Option<tracing::subscriber::DefaultGuard>,
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

impl Tracing {
    /// `global: true` installs the subscriber as the process's global default
    /// (once per process), otherwise for the current thread until `finish`.
    pub fn new(file: Option<&Path>, queue: TracingQueue, global: bool) -> Self {
        let builder = tracing_appender::non_blocking::NonBlockingBuilder::default();
        let builder = match queue {
            TracingQueue::Lossless(lines) => builder.lossy(false).buffered_lines_limit(lines),
            TracingQueue::LossyDefault => builder,
        };
        let (writer, worker) = builder.finish(writer(file, false));
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let default = if global {
            tracing::subscriber::set_global_default(subscriber).expect("first global subscriber");
            None
        } else {
            Some(tracing::subscriber::set_default(subscriber))
        };
        Tracing {
            _default: default,
            _worker: worker,
        }
    }
}

impl Case for Tracing {
    fn producer(&self) -> Box<dyn Producer> {
        Box::new(|i: u64| {
            tracing::info!(
                user_id = i,
                path = PATH,
                latency_ms = 12.5,
                "request handled"
            );
        })
    }

    fn finish(self: Box<Self>) -> Option<Delivery> {
        // Dropping the worker guard flushes everything queued.
        None
    }
}
