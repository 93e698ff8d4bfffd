//! A config file plus environment overrides drive the pipeline and the request layer.

mod support;

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use fapilog::config::{Config, SinkRegistry};
use fapilog::sink::{MemorySink, Sink};
use fapilog::{info, ConfigErrorKind, Level};
use fapilog_axum::sampling::is_kept;
use support::harness::Harness;
use support::memory_json;
use support::server::{self, serve};

const FILE: &str = r#"
level = "info,noisy=error"

[queue]
capacity = 1024

[[sinks]]
type = "memory"

[redaction]
extra_fields = ["session_id"]

[throttling]
enabled = true
burst = 3

[sampling]
rate = 0.5
never_paths = ["/health"]
"#;

#[test]
fn file_then_environment_then_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fapilog.toml");
    std::fs::write(&path, FILE).unwrap();
    let config = Config::from_file(&path)
        .unwrap()
        .with_env([
            ("FAPILOG_QUEUE__CAPACITY", "2048"),
            ("FAPILOG_THROTTLING__BURST", "2"),
        ])
        .unwrap();
    assert_eq!(config.queue.capacity, 2048);
    let memory = MemorySink::new();
    let shared = memory.clone();
    let registry = SinkRegistry::new().register("memory", move |_| {
        Ok(Box::new(shared.clone()) as Box<dyn Sink>)
    });
    let (pipeline, guard) = config.build_with(&registry).unwrap();
    assert_eq!(pipeline.metrics().queue_capacity, 2048);
    assert!(!pipeline.enabled_for(Level::Warn, Some("noisy::module")));
    let log = pipeline.logger();
    for _ in 0..5 {
        info!(log, "login", session_id = "s-123");
    }
    let report = guard.shutdown(Duration::from_secs(5));
    let out = memory_json(&memory);
    let logins: Vec<_> = out.iter().filter(|e| e["msg"] == "login").collect();
    assert_eq!(logins.len(), 2, "burst 2 from the environment");
    assert!(logins.iter().all(|e| e["session_id"] == "[REDACTED]"));
    assert_eq!(report.metrics.dropped.throttled, 3);
}

/// The file's sampling section, with the rate overridden from the
/// environment, decides what the layer keeps: an ID kept at the file's 0.5
/// but not at the environment's 0.25 is not sampled, and the file's never
/// path is not sampled whatever the ID.
#[tokio::test]
async fn sampling_settings_from_file_and_environment_reach_the_layer() {
    let config = Config::from_toml_str(FILE)
        .unwrap()
        .with_env([("FAPILOG_SAMPLING__RATE", "0.25")])
        .unwrap();
    let ids: Vec<String> = (0..1000).map(|n| format!("req-{n}")).collect();
    let between = ids
        .iter()
        .find(|id| is_kept(id, 0.5) && !is_kept(id, 0.25))
        .unwrap();
    let kept = ids.iter().find(|id| is_kept(id, 0.25)).unwrap();
    let h = Harness::new();
    let layer = h
        .layer()
        .sampling_settings(&config.sampling)
        .unwrap()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/work", get(|| async { "ok" }))
        .route("/health", get(|| async { "ok" }))
        .layer(layer);
    let (addr, stop, _) = serve(app).await;
    let sampled = |path: &'static str, id: &String| {
        let id = id.clone();
        async move {
            let res = server::get(addr, path, &[("x-request-id", id.as_bytes())]).await;
            res.header("x-log-sampled").map(str::to_owned)
        }
    };
    assert_eq!(sampled("/work", between).await.as_deref(), Some("false"));
    assert_eq!(sampled("/work", kept).await.as_deref(), Some("true"));
    assert_eq!(sampled("/health", kept).await.as_deref(), Some("false"));
    stop.send(()).unwrap();
}

#[test]
fn mistakes_are_reported_before_anything_starts() {
    let err = Config::from_toml_str("[queue]\ncapacity = 0")
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.setting()),
        (ConfigErrorKind::InvalidValue, "queue.capacity")
    );
    let err = Config::from_toml_str("[aggregation]\nwindow = 5").unwrap_err();
    assert_eq!(
        (err.kind(), err.setting()),
        (ConfigErrorKind::UnknownSetting, "aggregation.window")
    );
    let err = Config::default()
        .with_env([("FAPILOG_SINKS__0__TYPE", "memory")])
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), "sinks[0].type");
    assert!(err.to_string().contains("\"memory\""), "{err}");
}
