//! The `log` bridge: `log` records inside a request carry its correlation ID and
//! follow its sampling and error promotion, like `Logger` events.

mod support;

use std::sync::Once;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fapilog::{info, Level, LevelDirectives, Logger};
use fapilog_axum::LogBridge;
use fapilog_testing::TestApp;
use serde_json::json;
use support::{get_over_tcp, messages, unsampled_app};

/// `log` has one logger per process. `requests_only`: records outside requests
/// reach no capture, so parallel tests stay apart.
fn install_bridge() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        LogBridge::builder()
            .requests_only()
            .build()
            .install()
            .unwrap()
    });
}

/// Stands in for a library that logs through `log`.
mod legacy_client {
    pub(crate) fn call(endpoint: &str) {
        log::info!(target: "legacy::http", endpoint, status = 200u16; "called {endpoint}");
    }
}

async fn with_log() -> &'static str {
    log::info!(user = "ada"; "handler started");
    legacy_client::call("/inventory");
    log::debug!("detail");
    "ok"
}

async fn mixed(log: Logger) -> &'static str {
    info!(log, "logger 1");
    log::info!("log 1");
    info!(log, "logger 2");
    log::warn!("log 2");
    "ok"
}

async fn mixed_then_500(log: Logger) -> StatusCode {
    info!(log, "logger 1");
    log::info!("log 1");
    info!(log, "logger 2");
    log::warn!("log 2");
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn log_error() -> &'static str {
    log::info!("before");
    log::error!(code = 42; "upstream failed");
    log::info!("after");
    "handled"
}

fn router() -> Router {
    Router::new()
        .route("/log", get(with_log))
        .route("/mixed", get(mixed))
        .route("/mixed-500", get(mixed_then_500))
        .route("/log-error", get(log_error))
}

#[tokio::test]
async fn log_records_in_a_request_over_tcp_carry_its_correlation_id() {
    install_bridge();
    let app = TestApp::new(router()).unwrap();
    let events = get_over_tcp(&app, "/log", "tcp-log-1").await;
    assert_eq!(
        messages(&events),
        [
            "handler started",
            "called /inventory",
            "detail",
            "request completed"
        ]
    );
    let started = &events[0];
    assert_eq!(started.level, Level::Info);
    assert_eq!(started.target.as_deref(), Some("log_bridge"));
    assert_eq!(started.field("user"), Some(&json!("ada")));
    assert_eq!(started.sampled, Some(true));
    let call = &events[1];
    assert_eq!(call.target.as_deref(), Some("legacy::http"));
    assert_eq!(call.field("endpoint"), Some(&json!("/inventory")));
    assert_eq!(call.field("status"), Some(&json!(200)));
    assert_eq!(events[2].level, Level::Debug);
}

#[tokio::test]
async fn an_unsampled_requests_log_records_are_discarded_and_counted() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/mixed", "quiet-log-1").await.unwrap();
    assert_eq!(res.sampled(), Some(false));
    assert!(app
        .flush()
        .unwrap()
        .by_correlation_id("quiet-log-1")
        .is_empty());
    let m = app.metrics();
    assert_eq!(m.dropped.sampling, 5); // 2 Logger + 2 log + the access log
    assert!(m.is_balanced());
}

#[tokio::test]
async fn a_failing_unsampled_request_writes_all_its_records_in_order() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/mixed-500", "loud-log-1").await.unwrap();
    assert_eq!(
        (res.status(), res.sampled()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some(true))
    );
    let events = app.flush().unwrap().by_correlation_id("loud-log-1");
    assert_eq!(
        messages(&events),
        [
            "logger 1",
            "log 1",
            "logger 2",
            "log 2",
            "request completed"
        ]
    );
    assert!(events.iter().all(|e| e.promoted));
}

#[tokio::test]
async fn a_log_error_promotes_the_request() {
    install_bridge();
    let app = unsampled_app(router());
    let res = app.get_with_id("/log-error", "log-err-1").await.unwrap();
    assert_eq!((res.status(), res.sampled()), (StatusCode::OK, Some(true)));
    let events = app.flush().unwrap().by_correlation_id("log-err-1");
    assert_eq!(
        messages(&events),
        ["before", "upstream failed", "after", "request completed"]
    );
    assert_eq!(events[1].level, Level::Error);
    assert_eq!(events[1].field("code"), Some(&json!(42)));
}

#[test]
fn outside_requests_records_go_to_the_root_logger_with_its_context() {
    use log::Log;
    let capture = fapilog_testing::LogCapture::builder()
        .level(Level::Info)
        .build()
        .unwrap();
    let bridge = LogBridge::builder()
        .logger(capture.logger().bind("component", "cron"))
        .build();
    let debug = log::Metadata::builder().level(log::Level::Debug).build();
    assert!(!bridge.enabled(&debug));
    for (level, message) in [
        (log::Level::Info, "nightly run"),
        (log::Level::Debug, "hidden"),
    ] {
        bridge.log(
            &log::Record::builder()
                .level(level)
                .target("cron")
                .args(format_args!("{message}"))
                .build(),
        );
    }
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["nightly run"]);
    let run = &logs.events()[0];
    assert_eq!(run.target.as_deref(), Some("cron"));
    assert_eq!(run.field("component"), Some(&json!("cron")));
    assert_eq!(run.correlation_id, None);
}

#[test]
fn per_target_directives_gate_records_by_their_target() {
    use log::Log;
    let capture = fapilog_testing::LogCapture::builder()
        .level(Level::Info)
        .pipeline(|b| {
            b.directives(LevelDirectives::parse("info,legacy=debug,noisy=error").unwrap())
        })
        .build()
        .unwrap();
    let bridge = LogBridge::builder().logger(capture.logger()).build();
    let at = |level, target| log::Metadata::builder().level(level).target(target).build();
    assert!(bridge.enabled(&at(log::Level::Debug, "legacy::http")));
    assert!(!bridge.enabled(&at(log::Level::Debug, "elsewhere")));
    assert!(!bridge.enabled(&at(log::Level::Warn, "noisy")));
    for (level, target, message) in [
        (log::Level::Debug, "legacy::http", "legacy detail"),
        (log::Level::Debug, "elsewhere", "hidden debug"),
        (log::Level::Warn, "noisy", "hidden warn"),
        (log::Level::Error, "noisy", "noisy error"),
    ] {
        bridge.log(
            &log::Record::builder()
                .level(level)
                .target(target)
                .args(format_args!("{message}"))
                .build(),
        );
    }
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["legacy detail", "noisy error"]);
}

/// Runs in a child process: it fills the bridge's process-wide table of
/// interned targets, which the other tests' targets must still find room in.
#[test]
fn records_past_the_interned_targets_keep_their_directives() {
    use log::Log;
    const NAME: &str = "records_past_the_interned_targets_keep_their_directives";
    if !support::child::is_child(NAME) {
        let run = support::child::wait_bounded(
            support::child::command(NAME).spawn().unwrap(),
            std::time::Duration::from_secs(120),
        );
        let passed = run.status.success() && run.stdout.contains("1 passed");
        assert!(passed, "{}{}", run.stdout, run.stderr);
        return;
    }
    let capture = fapilog_testing::LogCapture::builder()
        .level(Level::Info)
        .pipeline(|b| b.directives(LevelDirectives::parse("warn,jobs=info").unwrap()))
        .build()
        .unwrap();
    let bridge = LogBridge::builder().logger(capture.logger()).build();
    // More distinct targets than the bridge interns (1,024 per process).
    let records = 1_100;
    for n in 0..records {
        let target = format!("jobs::worker{n}");
        bridge.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .target(&target)
                .args(format_args!("job ran"))
                .build(),
        );
    }
    let logs = capture.flush().unwrap();
    assert_eq!(logs.events().len(), records);
    let last = &logs.events()[records - 1];
    let named = last.target.as_deref().map(str::to_owned).or_else(|| {
        last.field("log.target")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
    });
    assert_eq!(named.as_deref(), Some("jobs::worker1099"));
}
