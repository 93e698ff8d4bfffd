//! A server for the loopback load test (`benches/load.sh`): one of the
//! stacks of the middleware bench, or the floor (`benches/support/floor.rs`:
//! `floor`, and `floor-no-events` without its two events), on a 1-worker runtime.
//!
//! ```text
//! cargo run --release --example bench_server -- bare|noop-layer|fapilog|tracing|floor|floor-no-events 127.0.0.1:3999
//! ```
#![allow(missing_docs)]

#[path = "../benches/support/apps.rs"]
mod apps;
#[path = "../benches/support/floor.rs"]
mod floor;

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, addr] = args.as_slice() else {
        return Err(
            "usage: bench_server bare|noop-layer|fapilog|tracing|floor|floor-no-events ADDR".into(),
        );
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let devnull = || std::fs::OpenOptions::new().write(true).open("/dev/null");
    let (app, _fapilog_guard, _tracing) = match mode.as_str() {
        "bare" => (apps::bare(), None, None),
        "noop-layer" => (apps::noop_layer(), None, None),
        "fapilog" => {
            let sink = fapilog::sink::FileSink::builder("/dev/null").build()?;
            let (app, guard) = apps::fapilog(sink, 1.0);
            (app, Some(guard), None)
        }
        "floor" => {
            let queue = floor::FloorQueue::default();
            queue.spawn_writer(devnull()?);
            (floor::floor(Some(queue)), None, None)
        }
        "floor-no-events" => (floor::floor(None), None, None),
        "tracing" => {
            let (subscriber, worker) = apps::tracing_subscriber_for(devnull()?);
            tracing::subscriber::set_global_default(subscriber)?;
            (apps::tracing_stack(), None, Some(worker))
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    };
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
        eprintln!("bench_server {mode} on {}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })?;
    Ok(())
}
