//! A pipeline whose JSON lines are captured, and Axum layers writing to it.
#![allow(dead_code, unreachable_pub)]

use fapilog::format::JsonFormat;
use fapilog::pipeline::{Pipeline, WriterGuard};
use fapilog_axum::{FapilogLayer, FapilogLayerBuilder};
use serde_json::Value as Json;

use super::CaptureSink;

/// One pipeline writing JSON into a [`CaptureSink`].
pub struct Harness {
    pub pipeline: Pipeline,
    _guard: WriterGuard,
    pub sink: CaptureSink,
}

impl Harness {
    pub fn new() -> Self {
        let sink = CaptureSink::open();
        let (pipeline, guard) = Pipeline::builder()
            .sink(sink.clone(), JsonFormat::new())
            .build()
            .unwrap();
        Harness {
            pipeline,
            _guard: guard,
            sink,
        }
    }

    /// The pipeline, its writer's guard (to drain it) and the sink.
    pub fn into_parts(self) -> (Pipeline, WriterGuard, CaptureSink) {
        (self.pipeline, self._guard, self.sink)
    }

    /// A layer builder on this harness's pipeline.
    pub fn layer(&self) -> FapilogLayerBuilder {
        FapilogLayer::builder().pipeline(self.pipeline.clone())
    }

    /// Every event written so far, after a flush.
    pub fn events(&self) -> Vec<Json> {
        assert!(self.pipeline.flush());
        self.sink.events()
    }

    /// The events written so far with correlation ID `id`.
    pub fn for_id(&self, id: &str) -> Vec<Json> {
        self.events()
            .into_iter()
            .filter(|e| e["correlation_id"] == id)
            .collect()
    }

    /// The `n` field of each event with correlation ID `id`, in the order written.
    pub fn numbers_for(&self, id: &str) -> Vec<u64> {
        self.for_id(id)
            .iter()
            .filter_map(|e| e["n"].as_u64())
            .collect()
    }

    /// A counter the layer reports with the pipeline's metrics.
    pub fn counter(&self, name: &str) -> u64 {
        self.pipeline
            .metrics()
            .extra
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no counter {name}"))
            .value
    }
}

/// The `msg` of each event, in order.
pub fn json_messages(events: &[Json]) -> Vec<&str> {
    events.iter().map(|e| e["msg"].as_str().unwrap()).collect()
}
