//! Test sinks shared by the behaviour tests: a capturing sink with a gate.
#![allow(dead_code, unreachable_pub)]

use std::io;
use std::sync::{Arc, Condvar, Mutex};

use fapilog::format::{ColorChoice, JsonFormat, LogfmtFormat, PrettyFormat};
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::sink::Sink;
use fapilog::{error, Logger};
use serde_json::Value as Json;

pub mod child;
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

    /// Blocks until the writer is inside `write` (holding a batch), waiting on a condvar.
    pub fn wait_until_write_entered(&self) {
        let (state, cv) = &*self.gate;
        let mut st = state.lock().unwrap();
        while st.writes_entered == 0 {
            st = cv.wait(st).unwrap();
        }
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
