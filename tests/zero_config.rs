//! `.layer(FapilogLayer::new())` and nothing else: JSON lines on stdout, INFO
//! and above, every request kept (rate 1.0), on the default pipeline that the
//! lifecycle hook drains. Run in a child process, whose stdout the test reads.

mod support;

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use fapilog::{debug, info, Logger};
use fapilog_axum::FapilogLayer;
use serde_json::Value as Json;
use support::child;
use support::server::{get as http_get, serve};

const NAME: &str = "the_zero_config_layer_logs_json_at_info_to_stdout_and_keeps_every_request";
const IDS: [&str; 3] = ["zero-1", "zero-2", "zero-3"];

async fn order(log: Logger) -> &'static str {
    debug!(log, "cache probe");
    info!(log, "fetching order", order_id = 7);
    "order 7"
}

/// The child: serves, sends three requests to itself, prints what the
/// responses said on stderr, stops the server and drains.
fn zero_config_child() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app = Router::new()
            .route("/orders/{id}", get(order))
            .layer(FapilogLayer::new());
        let (addr, stop, server) = serve(app).await;
        for id in IDS {
            let res = http_get(addr, "/orders/7", &[("x-request-id", id.as_bytes())]).await;
            eprintln!(
                "answer {} {} {}",
                res.status,
                res.header("x-request-id").unwrap_or("-"),
                res.header("x-log-sampled").unwrap_or("-")
            );
        }
        let _ = stop.send(());
        server.await.unwrap();
        let report = fapilog_axum::shutdown(Duration::from_secs(10)).await;
        eprintln!("report {}", report.map_or(0, |r| r.written));
    });
}

#[test]
fn the_zero_config_layer_logs_json_at_info_to_stdout_and_keeps_every_request() {
    if child::is_child(NAME) {
        zero_config_child();
        return;
    }
    let run = child::wait_bounded(
        child::command(NAME).spawn().unwrap(),
        Duration::from_secs(60),
    );
    assert!(run.status.success(), "{run:?}");
    for id in IDS {
        assert!(
            run.stderr.contains(&format!("answer 200 {id} true\n")),
            "{}",
            run.stderr
        );
    }
    let events = run.json_lines();
    assert!(
        run.stderr.contains(&format!("report {}\n", events.len())),
        "{}",
        run.stderr
    );
    for id in IDS {
        let mine: Vec<&Json> = events
            .iter()
            .filter(|e| e["correlation_id"] == id)
            .collect();
        let messages: Vec<&str> = mine.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(messages, ["fetching order", "request completed"], "{id}");
        for e in mine {
            assert_eq!(
                (e["sampled"].as_bool(), e["sample_rate"].as_f64()),
                (Some(true), Some(1.0))
            );
            assert_eq!(e["level"], "INFO");
        }
    }
}
