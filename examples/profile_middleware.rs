//! A loop of requests through one of the middleware bench's stacks, for
//! profilers: `perf record`, `valgrind --tool=callgrind`.
//!
//! ```text
//! cargo run --release --example profile_middleware -- bare|fapilog|floor|tracing [REQUESTS] [RATE]
//! perf record -e cpu-clock --call-graph dwarf target/release/examples/profile_middleware fapilog 300000
//! ```
//!
//! Each request goes through `tower::ServiceExt::oneshot` on a current-thread
//! runtime, as in `cargo bench --bench middleware`, with the router made
//! eager once (`with_state(())`, as `axum::serve` does). It prints the mean
//! time and the heap allocations (on the serving thread) per request.
//! `RATE` is fapilog's sample rate (default 1.0). `docs/benchmarks.md`
//! ("Middleware") lists what such profiles found.
#![allow(missing_docs)]

#[path = "../benches/support/alloc_count.rs"]
mod alloc_count;
#[path = "../benches/support/apps.rs"]
mod apps;
#[path = "../benches/support/floor.rs"]
mod floor;

use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use axum::body::Body;
use fapilog::sink::NullSink;
use http::Request;
use tower::ServiceExt;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile_middleware bare|fapilog|floor|tracing [REQUESTS] [RATE]";
    let mode = args.first().ok_or(usage)?.as_str();
    let requests: u64 = match args.get(1) {
        Some(n) => n.parse().map_err(|_| usage)?,
        None => 200_000,
    };
    let rate: f64 = match args.get(2) {
        Some(r) => r.parse().map_err(|_| usage)?,
        None => 1.0,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (subscriber, _worker) = apps::tracing_subscriber_for(std::io::sink());
    let _default = tracing::subscriber::set_default(subscriber);
    let (app, guard) = match mode {
        "bare" => (apps::bare(), None),
        "fapilog" => {
            let (app, guard) = apps::fapilog(NullSink::new(), rate);
            (app, Some(guard))
        }
        "floor" => {
            let queue = floor::FloorQueue::default();
            queue.spawn_writer(std::io::sink());
            (floor::floor(Some(queue)), None)
        }
        "tracing" => (apps::tracing_stack(), None),
        _ => return Err(usage.into()),
    };
    let app = app.with_state(());
    let allocations = alloc_count::allocations();
    let start = Instant::now();
    rt.block_on(async {
        for i in 0..requests {
            let req = Request::get(format!("/orders/{}", i % 1000)).body(Body::empty())?;
            black_box(app.clone().oneshot(req).await?);
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    let per_request = start.elapsed().as_nanos() as f64 / requests as f64;
    let allocs = (alloc_count::allocations() - allocations) as f64 / requests as f64;
    println!("{mode}: {per_request:.0} ns per request, {allocs:.2} allocations per request");
    drop(guard);
    Ok(())
}
