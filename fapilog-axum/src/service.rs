//! `FapilogService`: resolves the correlation ID, decides sampling, and hands
//! the handler a request-scoped logger.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use fapilog_core::{CorrelationText, Logger};
use http::{HeaderName, Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::access_log::RequestInfo;
use crate::extract::{CallScope, CURRENT};
use crate::future::{Called, Finish, ResponseFuture, Unfinished};
use crate::layer::Shared;
use crate::logger_pool;
use crate::request::{HeldRequest, Mode};

/// The service made by [`FapilogLayer`](crate::FapilogLayer).
#[derive(Debug, Clone)]
pub struct FapilogService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> FapilogService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        FapilogService { inner, shared }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for FapilogService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body + 'static,
    ResBody: Body + Default + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    // Inlined into axum's `MapIntoResponse::call`, the returned future is
    // copied once more there (callgrind: ~60 instructions of `memcpy`).
    #[inline(never)]
    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let shared = &self.shared;
        let started = Instant::now();
        let (resolved, incoming) = shared
            .correlation
            .resolve_at(req.headers(), || shared.wall_clock.at(started));
        if resolved.replaced_invalid {
            shared.counters.add_id_replaced();
        }
        let echo = incoming.cloned();
        let id = resolved.id.as_text();
        // An invalid ID is never logged, not even by the header allowlist.
        let hidden = resolved
            .replaced_invalid
            .then(|| shared.correlation.header_name());
        let (mode, info) = plan(shared, &mut req, id, hidden);
        let logger = logger_pool::acquire(&shared.root_logger, id, mode.gate(shared));
        let finish = Finish {
            shared: Arc::clone(shared),
            mode,
            logger,
            info,
            started,
            echo,
        };
        req.extensions_mut().insert(finish.logger());
        // The inner service's `call` runs in the scope too: a service that
        // logs before returning its future still reaches the request's logger.
        let in_call = CallScope::enter(finish.logger());
        // A panic of the inner `call` that the layer does not catch unwinds
        // through `finish`: it ends the request as failed.
        let finish = Unfinished::new(finish);
        let future = Called::call(&mut self.inner, req, shared.catch_panics);
        let logger = in_call.exit(|| entered_logger(&finish, shared));
        let inner = CURRENT.scope(logger, future);
        ResponseFuture::new(inner, finish)
    }
}

/// The logger a `CallScope` was entered with, when the thread could not
/// give it back (its storage torn down): the request's, from `finish`.
#[cold]
fn entered_logger(finish: &Unfinished, shared: &Shared) -> Logger {
    finish
        .logger()
        .unwrap_or_else(|| shared.root_logger.clone())
}

/// The request's sampling mode, and what the access log needs from it.
fn plan<B: Body + 'static>(
    shared: &Arc<Shared>,
    req: &mut Request<B>,
    id: &CorrelationText,
    hidden: Option<&HeaderName>,
) -> (Mode, Option<RequestInfo>) {
    let route = req.extensions().get::<MatchedPath>();
    let path = route.map_or(req.uri().path(), MatchedPath::as_str);
    let decision = shared
        .sampling
        .decide_bytes(path, id.as_bytes(), req.headers());
    let mode = match (decision.is_excluded(), decision.keep) {
        (true, _) => Mode::Excluded(HeldRequest::acquire(shared)),
        (false, true) => Mode::Kept,
        (false, false) => Mode::Held(HeldRequest::acquire(shared)),
    };
    let mut info = shared
        .access_log
        .is_enabled()
        .then(|| shared.access_log.capture(req, route, hidden));
    if let Some(info) = &mut info {
        info.measure_body(req);
    }
    (mode, info)
}
