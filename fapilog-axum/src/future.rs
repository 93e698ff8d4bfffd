//! The response future: after the handler, the final sampling decision, the
//! access log, the response headers; a handler panic becomes a logged 500.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use fapilog_core::{error, Context as LogContext, CorrelationText, Logger};
use http::header::{HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_service::Service;

use crate::access_log::{self, RequestInfo};
use crate::body_size;
use crate::extract::CallScope;
use crate::layer::Shared;
use crate::layer::SAMPLED_HEADER;
use crate::logger_pool;
use crate::panic;
use crate::request::{HeldRequest, Mode};

/// What is left to do once the handler has answered.
#[derive(Debug)]
pub(crate) struct Finish {
    pub(crate) shared: Arc<Shared>,
    pub(crate) mode: Mode,
    /// The request's logger, recycled once the response is out.
    pub(crate) logger: Logger,
    pub(crate) info: Option<RequestInfo>,
    pub(crate) started: Instant,
    /// The incoming header's value when it was the ID: echoed as it came
    /// (a reference count, where building a value copies the ID).
    pub(crate) echo: Option<HeaderValue>,
}

pin_project! {
    /// The future returned by [`FapilogService`](crate::FapilogService).
    pub struct ResponseFuture<F> {
        // Dropped first: what the handler's future logs as it is dropped
        // still goes through the request's logger, before the request ends.
        #[pin]
        inner: TaskLocalFuture<Logger, Called<F>>,
        finish: Unfinished,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: TaskLocalFuture<Logger, Called<F>>, finish: Unfinished) -> Self {
        ResponseFuture { inner, finish }
    }
}

pin_project! {
    /// The inner service's future, or the panic its `call` raised. The panic
    /// is raised again when first polled, in the request's scope, so it is
    /// caught and handled as a panic of the handler's future.
    #[project = CalledProj]
    pub(crate) enum Called<F> {
        Future { #[pin] future: F },
        Panicked { payload: Option<Box<dyn Any + Send>> },
    }
}

impl<F> Called<F> {
    /// `inner.call(req)`; with `catch`, a panic in it is kept for the first poll.
    pub(crate) fn call<S, R>(inner: &mut S, req: R, catch: bool) -> Self
    where
        S: Service<R, Future = F>,
    {
        if !catch {
            return Called::Future {
                future: inner.call(req),
            };
        }
        match catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(future) => Called::Future { future },
            Err(payload) => Called::Panicked {
                payload: Some(payload),
            },
        }
    }
}

impl<F: Future> Future for Called<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project() {
            CalledProj::Future { future } => future.poll(cx),
            CalledProj::Panicked { payload } => match payload.take() {
                Some(payload) => std::panic::resume_unwind(payload),
                None => panic!("a request future polled after it completed"),
            },
        }
    }
}

/// What is left to do until the response; a request dropped before it is
/// ended as cancelled (the client went away, a timeout layer gave up), or
/// as failed when a panic went through it.
#[derive(Debug)]
pub(crate) struct Unfinished {
    finish: Option<Finish>,
    /// A panic the layer does not catch went through the request's `poll`.
    /// A layer outside that catches it drops the request later, when no
    /// panic is unwinding any more.
    panicked: bool,
}

impl Unfinished {
    pub(crate) fn new(finish: Finish) -> Self {
        Unfinished {
            finish: Some(finish),
            panicked: false,
        }
    }

    /// The request's logger, until the request has ended.
    pub(crate) fn logger(&self) -> Option<Logger> {
        self.finish.as_ref().map(Finish::logger)
    }

    fn take(&mut self) -> Option<Finish> {
        self.finish.take()
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take() {
            finish.abandoned(self.panicked || std::thread::panicking());
        }
    }
}

/// Sets its flag when dropped by an unwinding panic.
struct UnwindMark<'a>(&'a mut bool);

impl Drop for UnwindMark<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.0 = true;
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("finish", &self.finish.finish)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body + Default + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let catch = this
            .finish
            .finish
            .as_ref()
            .is_some_and(|f| f.shared.catch_panics);
        let mut inner = this.inner;
        // The inner service's `call` has returned: a logger it saw through
        // `CallScope` belongs to an enclosing call, not to this future.
        let _outside_call = CallScope::suspend();
        let polled = if catch {
            catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx)))
        } else {
            let _mark = UnwindMark(&mut this.finish.panicked);
            Ok(inner.as_mut().poll(cx))
        };
        let outcome = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => Ok(result),
            Err(payload) => Err(payload),
        };
        let Some(finish) = this.finish.take() else {
            // Polled again after it completed: there is nothing left to record.
            return Poll::Ready(match outcome {
                Ok(result) => result,
                Err(payload) => std::panic::resume_unwind(payload),
            });
        };
        Poll::Ready(match outcome {
            Ok(result) => {
                // The inner future is gone (dropped in its scope): the
                // task-local's logger is free to take, rather than a clone.
                let logger = inner.take_value().unwrap_or_else(|| finish.logger());
                finish.complete(logger, result)
            }
            Err(payload) => {
                // The panicked inner future is dropped with this one, in its
                // scope: it keeps the task-local's logger for what its drop logs.
                let logger = finish.logger();
                Ok(finish.panicked(logger, payload))
            }
        })
    }
}

const SAMPLED_HEADER_NAME: HeaderName = HeaderName::from_static(SAMPLED_HEADER);

impl Finish {
    fn complete<B: Body + 'static, E>(
        mut self,
        logger: Logger,
        result: Result<Response<B>, E>,
    ) -> Result<Response<B>, E> {
        let (result, streaming) = self.record(&logger, result);
        drop(logger);
        // A logger a streamed body holds (its access event waits for the
        // end, or the stream is polled in its scope) stays in use until the
        // stream ends: pooled now, it could not be reused.
        if !streaming {
            self.recycle();
        }
        result
    }

    /// Pools the request's logger and, if it was held (unkept or excluded), its gate.
    fn recycle(self) {
        let mut logger = self.logger;
        if let Mode::Held(held) | Mode::Excluded(held) = self.mode {
            // Once the pooled logger lets go of it, the unkept request's
            // buffer is free for the next unkept request. After a panic the
            // task-local still holds the logger (dropped with this future):
            // the gate stays held until the logger's reuse.
            logger.retire_gate();
            HeldRequest::release(held);
        }
        logger_pool::release(logger);
    }

    /// Decides, decorates the response and writes the access event; says
    /// whether a streamed body holds the request's logger.
    fn record<B: Body + 'static, E>(
        &mut self,
        logger: &Logger,
        result: Result<Response<B>, E>,
    ) -> (Result<Response<B>, E>, bool) {
        match result {
            Ok(mut res) => {
                let kept = self.end(res.status().is_server_error());
                self.decorate(&mut res, kept);
                let streaming = match self.info.take() {
                    Some(info) => {
                        let latency = self.started.elapsed();
                        access_log::log_response(logger, info, &mut res, latency, kept)
                    }
                    None => body_size::scope_stream(res.body_mut(), logger),
                };
                (Ok(res), streaming)
            }
            Err(e) => {
                self.end(true);
                if let Some(info) = self.info.take() {
                    access_log::log_failure(logger, info, self.started.elapsed());
                }
                (Err(e), false)
            }
        }
    }

    /// Ends a request whose future was dropped before it answered. After a
    /// panic (the layer does not catch them, or another future panicked) the
    /// request `failed`; otherwise it was cancelled. Either way its held
    /// events are settled, it is counted, and its access event says so.
    fn abandoned(mut self, failed: bool) {
        let latency = self.started.elapsed();
        let kept = self.end(failed);
        if !failed {
            self.shared.counters.add_cancelled();
        }
        if let Some(info) = self.info.take() {
            if failed {
                access_log::log_failure(&self.logger, info, latency);
            } else {
                access_log::log_cancelled(&self.logger, info, latency, kept);
            }
        }
        self.recycle();
    }

    /// The request's logger: its context, through its gate.
    pub(crate) fn logger(&self) -> Logger {
        self.logger.clone()
    }

    fn panicked<B: Body + Default + 'static>(
        self,
        logger: Logger,
        payload: Box<dyn Any + Send>,
    ) -> Response<B> {
        self.shared.counters.add_panic();
        let message = panic::message(&*payload);
        let location = panic::take_location(&message);
        error!(
            logger,
            "handler panicked",
            "panic.message" = message,
            "panic.location" = location
        );
        let mut res = Response::new(B::default());
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        self.complete::<B, std::convert::Infallible>(logger, Ok(res))
            .unwrap_or_else(|never| match never {})
    }

    /// Makes the final decision; returns whether the request's logs are kept.
    fn end(&self, failed: bool) -> bool {
        let (kept, promoted, excluded) = match &self.mode {
            Mode::Kept => (true, false, false),
            Mode::Held(held) | Mode::Excluded(held) => {
                let kept = held.finish(failed);
                (kept, kept, matches!(self.mode, Mode::Excluded(_)))
            }
        };
        self.shared
            .counters
            .record_request(kept, promoted, excluded);
        kept
    }

    fn decorate<B>(&mut self, res: &mut Response<B>, kept: bool) {
        let headers = res.headers_mut();
        let id = self.echo.take().or_else(|| {
            let id = self
                .logger
                .context()
                .and_then(LogContext::correlation_text)
                .map_or(&[][..], CorrelationText::as_bytes);
            HeaderValue::from_bytes(id).ok()
        });
        if let Some(value) = id {
            let name = self.shared.correlation.header_name().clone();
            headers.insert(name, value);
        }
        let sampled = HeaderValue::from_static(if kept { "true" } else { "false" });
        headers.insert(SAMPLED_HEADER_NAME, sampled);
    }
}
