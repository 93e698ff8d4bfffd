//! Test sinks and setup shared by the behaviour tests: a capturing sink with a gate.
#![allow(dead_code, unreachable_pub)]

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use fapilog::format::{ColorChoice, JsonFormat, LogfmtFormat, PrettyFormat};
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::sink::{MemorySink, Sink};
use fapilog::{error, Logger};
use fapilog_axum::SamplingConfig;
use fapilog_testing::{CapturedEvent, TestApp};
use serde_json::Value as Json;

pub mod child;
pub mod harness;
pub mod server;

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    writes_entered: usize,
}

/// Collects every byte written; can be held closed so writes block until opened.
#[derive(Debug, Clone, Default)]
pub struct CaptureSink {
    bytes: Arc<Mutex<Vec<u8>>>,
    gate: Arc<(Mutex<GateState>, Condvar)>,
}

impl CaptureSink {
    /// A sink whose writes go through at once.
    pub fn open() -> Self {
        let sink = CaptureSink::default();
        sink.open_gate();
        sink
    }

    /// A sink whose writes block until `open_gate`.
    pub fn gated() -> Self {
        CaptureSink::default()
    }

    pub fn open_gate(&self) {
        let (state, cv) = &*self.gate;
        state.lock().unwrap().open = true;
        cv.notify_all();
    }

    /// Blocks until the writer is inside `write` (holding a batch), waiting on
    /// a condvar; panics if it is not there within 60 s, rather than hang.
    pub fn wait_until_write_entered(&self) {
        let (state, cv) = &*self.gate;
        let st = state.lock().unwrap();
        let (_st, waited) = cv
            .wait_timeout_while(st, Duration::from_secs(60), |st| st.writes_entered == 0)
            .unwrap();
        assert!(!waited.timed_out(), "the writer never entered write");
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
    }

    /// Every line parsed as JSON.
    pub fn json_lines(&self) -> Vec<Json> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }

    /// The JSON lines written for user events (not fapilog's own loss records).
    pub fn events(&self) -> Vec<Json> {
        self.json_lines()
            .into_iter()
            .filter(|v| v["target"] != "fapilog")
            .collect()
    }

    /// fapilog's in-band loss records.
    pub fn loss_records(&self) -> Vec<Json> {
        self.json_lines()
            .into_iter()
            .filter(|v| v["target"] == "fapilog")
            .collect()
    }
}

impl Sink for CaptureSink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        let (state, cv) = &*self.gate;
        let mut st = state.lock().unwrap();
        st.writes_entered += 1;
        cv.notify_all();
        while !st.open {
            st = cv.wait(st).unwrap();
        }
        drop(st);
        self.bytes.lock().unwrap().extend_from_slice(batch);
        Ok(())
    }

    fn name(&self) -> String {
        "capture".into()
    }
}

/// Polls `done` every millisecond until it holds; panics after 60 s rather
/// than hang, naming `what` was awaited.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether a producer is waiting for room: it counts its event as submitted
/// before it waits, so more are in flight than the queue and the writer's
/// one-event batch hold.
pub fn a_producer_waits(pipeline: &Pipeline) -> bool {
    let m = pipeline.metrics();
    m.in_flight() > m.queue_depth as u64 + 1
}

/// A pipeline whose only sink, held closed, has the writer stuck inside its
/// first write, holding the ERROR event `first` (seq 1).
pub fn stuck_pipeline(
    capacity: usize,
    policy: OverflowPolicy,
) -> (Pipeline, WriterGuard, CaptureSink, Logger) {
    let sink = CaptureSink::gated();
    let (pipeline, guard) = Pipeline::builder()
        .capacity(capacity)
        .overflow(policy)
        .sink(sink.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    error!(log, "first"); // ERROR wakes the writer at once
    sink.wait_until_write_entered();
    (pipeline, guard, sink, log)
}

/// A sink that fails every write with an error, or panics.
#[derive(Debug, Clone, Copy)]
pub enum BrokenSink {
    Errors,
    Panics,
}

impl Sink for BrokenSink {
    fn write(&mut self, _batch: &[u8]) -> io::Result<()> {
        match self {
            BrokenSink::Errors => Err(io::Error::other("disk on fire")),
            BrokenSink::Panics => panic!("sink exploded"),
        }
    }

    fn name(&self) -> String {
        format!("broken-{self:?}").to_lowercase()
    }
}

/// One capture sink per format behind one pipeline: `[json, logfmt, pretty]` (pretty without colour).
pub fn three_formats() -> (Pipeline, WriterGuard, [CaptureSink; 3]) {
    let sinks = [
        CaptureSink::open(),
        CaptureSink::open(),
        CaptureSink::open(),
    ];
    let (pipeline, guard) = Pipeline::builder()
        .sink(sinks[0].clone(), JsonFormat::new())
        .sink(sinks[1].clone(), LogfmtFormat::new())
        .sink(
            sinks[2].clone(),
            PrettyFormat::new().color(ColorChoice::Never),
        )
        .build()
        .unwrap();
    (pipeline, guard, sinks)
}

/// The messages of `events`, in order.
pub fn messages(events: &[CapturedEvent]) -> Vec<&str> {
    events.iter().map(|e| e.message.as_str()).collect()
}

/// An app over `router` that samples no request: only promoted requests are written.
pub fn unsampled_app(router: Router) -> TestApp {
    TestApp::builder(router)
        .sampling(SamplingConfig::new().rate(0.0).unwrap())
        .build()
        .unwrap()
}

/// Serves `app` over TCP, sends `GET path` with `x-request-id: id`, expects a 200,
/// and returns the events written under that ID.
pub async fn get_over_tcp(app: &TestApp, path: &str, id: &str) -> Vec<CapturedEvent> {
    let (addr, stop, _) = server::serve(app.router()).await;
    let res = server::get(addr, path, &[("x-request-id", id.as_bytes())]).await;
    assert_eq!(res.status, 200);
    let events = app.flush().unwrap().by_correlation_id(id);
    let _ = stop.send(());
    events
}

/// What a `MemorySink` holds, each line parsed as JSON.
pub fn memory_json(sink: &MemorySink) -> Vec<Json> {
    sink.lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}
