//! fapilog-testing: flush is exact, and parallel tests never see each other's events.

use std::sync::{Arc, Barrier};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fapilog::{info, Level, Logger};
use fapilog_axum::SamplingConfig;
use fapilog_testing::{LogCapture, TestApp};

/// The same app, routes and IDs in every test below: only isolation keeps them apart.
fn app_router() -> Router {
    async fn work(log: Logger) -> &'static str {
        for n in 0..3u64 {
            info!(log, "working", n);
        }
        "done"
    }
    async fn broken(log: Logger) -> StatusCode {
        info!(log, "about to fail");
        StatusCode::INTERNAL_SERVER_ERROR
    }
    Router::new()
        .route("/work", get(work))
        .route("/broken", get(broken))
}

#[test]
fn flush_is_exact_for_events_from_many_threads() {
    let capture = LogCapture::new().unwrap();
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 2_500;
    let start = Arc::new(Barrier::new(THREADS as usize));
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = capture.logger().bind("thread", t);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                for n in 0..PER_THREAD {
                    info!(log, "event", n);
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Straight after the producers, with no sleep: flush returns when every event is in.
    let logs = capture.flush().unwrap();
    assert_eq!(logs.count() as u64, THREADS * PER_THREAD);
    for t in 0..THREADS {
        let ns: Vec<u64> = logs
            .filter(|e| e.field("thread") == Some(&serde_json::json!(t)))
            .iter()
            .map(|e| e.field("n").unwrap().as_u64().unwrap())
            .collect();
        assert_eq!(
            ns,
            (0..PER_THREAD).collect::<Vec<_>>(),
            "thread {t} in order"
        );
    }
    let seqs: Vec<u64> = logs.events().iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(seqs, (1..=THREADS * PER_THREAD).collect::<Vec<_>>());
    let m = capture.metrics();
    assert_eq!((m.submitted, m.written, m.in_flight()), (10_000, 10_000, 0));
    assert!(logs.loss_records().is_empty() && logs.unparsed_lines().is_empty());
}

#[test]
fn flush_is_exact_round_after_round() {
    let capture = LogCapture::new().unwrap();
    let log = capture.logger();
    let mut expected = 0;
    for round in 1..=50usize {
        for _ in 0..round {
            log.info("tick");
        }
        expected += round;
        assert_eq!(capture.flush().unwrap().count(), expected, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_async_is_exact_and_keeps_the_runtime_free() {
    let capture = LogCapture::new().unwrap();
    let log = capture.logger();
    let tasks: Vec<_> = (0..8u64)
        .map(|task| {
            let log = log.bind("task", task);
            tokio::spawn(async move {
                for n in 0..100u64 {
                    info!(log, "async event", n);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let logs = capture.flush_async().await.unwrap();
    assert_eq!(logs.count(), 800);
    assert_eq!(logs.by_message("async event").len(), 800);
}

#[test]
fn level_is_respected_and_queries_agree() {
    let capture = LogCapture::builder().level(Level::Info).build().unwrap();
    let log = capture.logger().with_correlation_id("job-1");
    log.debug("hidden");
    log.info("shown");
    log.warn("careful");
    capture.logger().error("no correlation id");
    let logs = capture.flush().unwrap();
    assert_eq!(logs.messages(), ["shown", "careful", "no correlation id"]);
    assert_eq!(logs.by_correlation_id("job-1").len(), 2);
    assert_eq!(logs.by_level(Level::Error)[0].correlation_id, None);
    assert_eq!(
        logs.find(|e| e.level == Level::Warn).unwrap().message,
        "careful"
    );
    assert!(logs.by_level(Level::Debug).is_empty());
}

/// One of several identical tests that run at the same time in this binary.
async fn isolated_round(marker: &str) {
    let app = TestApp::builder(app_router())
        .sampling(SamplingConfig::new().rate(0.0).unwrap())
        .build()
        .unwrap();
    for _ in 0..5 {
        // Every test uses the same correlation IDs.
        assert_eq!(
            app.get_with_id("/work", "shared-ok")
                .await
                .unwrap()
                .status(),
            200
        );
        let res = app.get_with_id("/broken", "shared-broken").await.unwrap();
        assert_eq!(res.status(), 500);
        app.logger()
            .bind("marker", marker.to_owned())
            .info("marker");
    }
    let logs = app.flush().unwrap();
    // Unsampled successes left nothing; each failure kept its 2 events; 5 markers.
    assert!(logs.by_correlation_id("shared-ok").is_empty());
    assert_eq!(logs.by_correlation_id("shared-broken").len(), 10);
    let markers = logs.by_message("marker");
    assert_eq!(markers.len(), 5);
    assert!(markers
        .iter()
        .all(|e| e.field("marker") == Some(&serde_json::json!(marker))));
    assert_eq!(logs.count(), 15);
    let m = app.metrics();
    assert_eq!(m.dropped.sampling, 5 * 4); // 3 "working" + the access log, per success
    assert!(m.is_balanced());
}

#[tokio::test]
async fn parallel_test_a() {
    isolated_round("a").await;
}

#[tokio::test]
async fn parallel_test_b() {
    isolated_round("b").await;
}

#[tokio::test]
async fn parallel_test_c() {
    isolated_round("c").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_test_d_multi_thread() {
    isolated_round("d").await;
}

#[test]
fn fixtures_on_threads_started_together_stay_apart() {
    const APPS: usize = 4;
    let start = Arc::new(Barrier::new(APPS));
    let threads: Vec<_> = (0..APPS)
        .map(|i| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let app = TestApp::new(app_router()).unwrap();
                    start.wait();
                    for _ in 0..=i {
                        app.get_with_id("/work", "same-id").await.unwrap();
                    }
                    let logs = app.flush().unwrap();
                    // 3 "working" + 1 access log per request, and only this app's requests.
                    assert_eq!(logs.by_correlation_id("same-id").len(), 4 * (i + 1));
                    assert_eq!(logs.count(), 4 * (i + 1));
                    logs.count()
                })
            })
        })
        .collect();
    let counts: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(counts, [4, 8, 12, 16]);
}
