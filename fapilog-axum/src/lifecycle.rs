//! The shared default pipeline, and draining pipelines from async code.
//!
//! `FapilogLayer::new()` logs through a default pipeline (JSON to stdout,
//! INFO) created on first use. Once `axum::serve(..).with_graceful_shutdown(..)`
//! returns, call [`shutdown`] to drain it; for a pipeline you built yourself,
//! pass its guard to [`drain`].
//!
//! # Example
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use fapilog_axum::FapilogLayer;
//! use std::time::Duration;
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/", get(|| async { "hi" })).layer(FapilogLayer::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! if let Some(report) = fapilog_axum::shutdown(Duration::from_secs(5)).await {
//!     eprintln!("{report}");
//! }
//! # Ok(()) }
//! ```

use std::io::Write;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use fapilog_core::pipeline::{DrainReport, Pipeline, WriterGuard};

struct DefaultPipeline {
    pipeline: Pipeline,
    guard: Mutex<Option<WriterGuard>>,
}

static DEFAULT: OnceLock<DefaultPipeline> = OnceLock::new();

/// The shared default pipeline (JSON lines on stdout, INFO), started on first use.
///
/// If its writer thread cannot be started, a line goes to stderr and a closed
/// pipeline stands in ([`Pipeline::closed`]): its level is OFF, so nothing is
/// logged or counted, and nothing panics.
pub fn default_pipeline() -> Pipeline {
    DEFAULT
        .get_or_init(|| match Pipeline::builder().build() {
            Ok((pipeline, guard)) => DefaultPipeline {
                pipeline,
                guard: Mutex::new(Some(guard)),
            },
            Err(e) => {
                // Not `eprintln!`, which panics when stderr is broken.
                let _ = writeln!(
                    std::io::stderr(),
                    "fapilog: cannot start the default pipeline: {e}"
                );
                DefaultPipeline {
                    pipeline: Pipeline::closed(),
                    guard: Mutex::new(None),
                }
            }
        })
        .pipeline
        .clone()
}

/// Drains the default pipeline within `deadline`, once the server has stopped.
/// `None` if it was never started or is drained already.
pub async fn shutdown(deadline: Duration) -> Option<DrainReport> {
    let guard = DEFAULT
        .get()?
        .guard
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()?;
    drain(guard, deadline).await
}

/// Drains a pipeline you built, on a blocking thread, within `deadline`.
/// `None` only if the drain task could not run to completion.
pub async fn drain(guard: WriterGuard, deadline: Duration) -> Option<DrainReport> {
    tokio::task::spawn_blocking(move || guard.shutdown(deadline))
        .await
        .ok()
}
