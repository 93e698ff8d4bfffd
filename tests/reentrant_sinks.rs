//! A sink that logs while it writes (itself, or through a library that logs
//! via `tracing` or `log`) must not feed its own pipeline: each batch would
//! bring the next one, for ever. Such events are refused and counted.

use std::io;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::{OverflowPolicy, Pipeline, WriterGuard};
use fapilog::sink::Sink;
use fapilog::{info, Logger};
use fapilog_axum::{LogBridge, TracingBridge};
use fapilog_testing::MemorySink;
use tracing_subscriber::layer::SubscriberExt;

/// How a sink logs while it writes.
#[derive(Clone, Copy)]
enum Chatter {
    Logger,
    /// Through `tracing` and through `log`.
    Bridges,
    Flush,
}

/// Writes to a memory sink, logging as a chatty HTTP client would.
struct ChattySink {
    out: MemorySink,
    chatter: Chatter,
    /// The sink's own pipeline, set once it is built.
    own: Arc<Mutex<Option<Pipeline>>>,
    flushed: Arc<Mutex<Vec<bool>>>,
}

impl Sink for ChattySink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        let own = self.own.lock().unwrap().clone();
        match (self.chatter, own) {
            (Chatter::Logger, Some(pipeline)) => {
                let log: Logger = pipeline.logger();
                info!(log, "POST /ingest");
            }
            (Chatter::Bridges, _) => {
                tracing::info!(target: "http_client", "POST /ingest");
                log::info!(target: "http_client", "POST /ingest");
            }
            (Chatter::Flush, Some(pipeline)) => {
                let done = pipeline.flush_timeout(Duration::from_secs(10));
                self.flushed.lock().unwrap().push(done);
            }
            _ => {}
        }
        self.out.write(batch)
    }
}

struct Setup {
    pipeline: Pipeline,
    out: MemorySink,
    flushed: Arc<Mutex<Vec<bool>>>,
    _guard: WriterGuard,
}

fn chatty_pipeline(chatter: Chatter) -> Setup {
    let out = MemorySink::new();
    let own = Arc::new(Mutex::new(None));
    let flushed = Arc::new(Mutex::new(Vec::new()));
    let sink = ChattySink {
        out: out.clone(),
        chatter,
        own: Arc::clone(&own),
        flushed: Arc::clone(&flushed),
    };
    let (pipeline, guard) = Pipeline::builder()
        .capacity(8)
        .overflow(OverflowPolicy::Block {
            timeout: Duration::from_secs(10),
        })
        .sink(sink, JsonFormat::new())
        .build()
        .unwrap();
    *own.lock().unwrap() = Some(pipeline.clone());
    Setup {
        pipeline,
        out,
        flushed,
        _guard: guard,
    }
}

/// Logs one event, then flushes a few times: each flush writes a batch if
/// anything came in since the last.
fn log_once_and_flush(setup: &Setup) {
    let log = setup.pipeline.logger();
    info!(log, "one application event");
    for _ in 0..4 {
        assert!(setup.pipeline.flush_timeout(Duration::from_secs(5)));
    }
}

fn assert_only_the_application_event(setup: &Setup, logged_per_write: u64) {
    assert_eq!(setup.out.messages(), ["one application event"]);
    let m = setup.pipeline.metrics();
    assert_eq!(m.written, 1);
    assert!(setup.out.writes() >= 1);
    assert_eq!(m.dropped.reentrant, logged_per_write * setup.out.writes());
    assert!(m.is_balanced(), "{m:?}");
}

#[test]
fn a_sink_logging_to_its_own_pipeline_does_not_feed_it() {
    let setup = chatty_pipeline(Chatter::Logger);
    log_once_and_flush(&setup);
    assert_only_the_application_event(&setup, 1);
}

/// The writer thread is not the test's: the bridges must be the process's
/// (one test only installs them).
fn install_bridges(root: &Pipeline) {
    static INSTALL: Once = Once::new();
    let root = root.logger();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry()
            .with(TracingBridge::builder().logger(root.clone()).build());
        tracing::subscriber::set_global_default(subscriber).unwrap();
        LogBridge::builder().logger(root).build().install().unwrap();
    });
}

#[test]
fn a_sink_whose_library_logs_through_the_bridges_does_not_feed_the_pipeline() {
    let setup = chatty_pipeline(Chatter::Bridges);
    install_bridges(&setup.pipeline);
    log_once_and_flush(&setup);
    assert_only_the_application_event(&setup, 2);
}

#[test]
fn a_sink_flushing_its_own_pipeline_is_answered_at_once() {
    let setup = chatty_pipeline(Chatter::Flush);
    let log = setup.pipeline.logger();
    info!(log, "one application event");
    // The writer would otherwise wait for itself for the sink's 10 s.
    assert!(setup.pipeline.flush_timeout(Duration::from_secs(5)));
    assert_eq!(*setup.flushed.lock().unwrap(), [false]);
    assert_eq!(setup.out.messages(), ["one application event"]);
}
