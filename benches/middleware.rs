//! Per-request cost through the router (`tower::ServiceExt::oneshot`): bare
//! axum, bare axum behind a no-op `Router::layer` (what axum charges for any
//! layer), axum + fapilog (rate 1.0 and 0.1), axum + tower-http/tracing, in one run.
//!
//! `cargo bench --bench middleware`. The loopback load test is `benches/load.sh`.
#![allow(missing_docs)]

#[path = "support/apps.rs"]
mod apps;

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use criterion::Criterion;
use fapilog::sink::NullSink;
use http::Request;
use tower::ServiceExt;

fn run(rt: &tokio::runtime::Runtime, app: &Router, iters: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..iters {
            let req = Request::get(format!("/orders/{}", i % 1000))
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            black_box(res);
        }
        start.elapsed()
    })
}

/// Turns every handler into a route once, as `axum::serve` does
/// (`into_make_service` calls `with_state(())`); a router used as a service
/// without it converts the handler, and applies route layers, per request.
fn eager(app: Router) -> Router {
    app.with_state(())
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("request");
    let bare = eager(apps::bare());
    group.bench_function("bare axum", |b| b.iter_custom(|n| run(&rt, &bare, n)));
    let noop = eager(apps::noop_layer());
    group.bench_function("bare axum + no-op layer", |b| {
        b.iter_custom(|n| run(&rt, &noop, n))
    });
    for rate in [1.0, 0.1] {
        let (app, guard) = apps::fapilog(NullSink::new(), rate);
        let app = eager(app);
        group.bench_function(format!("fapilog rate {rate}"), |b| {
            b.iter_custom(|n| run(&rt, &app, n))
        });
        drop(guard);
    }
    let (subscriber, _worker) = apps::tracing_subscriber_for(std::io::sink());
    let _default = tracing::subscriber::set_default(subscriber);
    let traced = eager(apps::tracing_stack());
    group.bench_function("tower-http + tracing", |b| {
        b.iter_custom(|n| run(&rt, &traced, n))
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}
