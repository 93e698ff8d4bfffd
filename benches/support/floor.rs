//! A floor for the loopback load test: the least a layer meeting issue 3's
//! per-request points can do, hand-written for speed, with no configuration,
//! sampling rules, redaction or field lists. Per request it generates a UUID
//! v7 (random bits from `fastrand`), makes it and the request's event queue
//! reachable from the handler (the request's extensions) and from anything
//! the handler calls (a task-local), turns a panic of the handler's future
//! into a 500 (the panic's message is not recorded: that costs nothing until
//! a panic), counts the request as kept, echoes the ID and
//! `x-log-sampled: true` on the response, and records two events: the
//! handler's and the access event (method, route template, path, status,
//! latency, request and response body sizes when known, level by status).
//! Events are small owned structs pushed into a mutex-guarded `Vec`, which a
//! thread swaps out once a millisecond and writes as JSON lines. Three clock
//! reads: the latency's two (the ID's and the access event's wall time are
//! derived from them) and the handler event's stamp; fapilog makes four.
//!
//! Without a queue the two events are left out: what the ID, the scope and
//! the headers alone cost.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Extension, MatchedPath, Path};
use axum::routing::get;
use axum::Router;
use fapilog::InlineStr;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

/// A correlation ID: the hyphenated text of a UUID v7.
#[derive(Clone, Copy)]
struct FloorId([u8; 36]);

impl FloorId {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// What the handler finds in the request's extensions, and what anything it
/// calls finds in the task-local: the ID and the queue.
#[derive(Clone)]
struct RequestLog {
    id: FloorId,
    queue: Option<FloorQueue>,
}

tokio::task_local! {
    static REQUEST_LOG: RequestLog;
}

/// Requests kept (all of them: the floor samples at rate 1.0).
static KEPT: AtomicU64 = AtomicU64::new(0);

/// A request's path, copied: inline when short (the load test's is 9 bytes).
enum PathText {
    Inline(InlineStr<62>),
    Heap(Box<str>),
}

impl PathText {
    fn new(path: &str) -> Self {
        InlineStr::new(path).map_or_else(|| PathText::Heap(path.into()), PathText::Inline)
    }

    fn as_str(&self) -> &str {
        match self {
            PathText::Inline(path) => path.as_str(),
            PathText::Heap(path) => path,
        }
    }
}

/// What the access event needs from the request, captured before the handler runs.
struct RequestInfo {
    method: Method,
    route: Option<MatchedPath>,
    path: PathText,
    request_bytes: Option<u64>,
}

impl RequestInfo {
    fn capture<B: Body>(req: &Request<B>) -> Self {
        RequestInfo {
            method: req.method().clone(),
            route: req.extensions().get::<MatchedPath>().cloned(),
            path: PathText::new(req.uri().path()),
            // As in fapilog's access event: an empty request body has no size.
            request_bytes: body_bytes(req.body(), req.headers()).filter(|&n| n > 0),
        }
    }
}

/// A body's size when it is known without reading it.
fn body_bytes(body: &impl Body, headers: &HeaderMap) -> Option<u64> {
    body.size_hint()
        .exact()
        .or_else(|| headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok())
}

/// Wall-clock time from a monotonic reading: one clock read serves both.
#[derive(Clone, Copy)]
struct Anchor {
    wall: SystemTime,
    mono: Instant,
}

impl Anchor {
    fn new() -> Self {
        Anchor {
            wall: SystemTime::now(),
            mono: Instant::now(),
        }
    }

    fn wall(&self, at: Instant) -> SystemTime {
        self.wall + at.duration_since(self.mono)
    }
}

enum Record {
    Handler {
        at: SystemTime,
        id: FloorId,
        order_id: u64,
    },
    Access {
        at: SystemTime,
        id: FloorId,
        status: u16,
        latency: Duration,
        info: RequestInfo,
        response_bytes: Option<u64>,
    },
}

/// The queue: producers push, the writer thread swaps the whole `Vec` out.
#[derive(Clone, Default)]
pub struct FloorQueue(Arc<Mutex<Vec<Record>>>);

impl FloorQueue {
    fn push(&self, record: Record) {
        if let Ok(mut queue) = self.0.lock() {
            queue.push(record);
        }
    }

    /// Starts the thread writing the queue's records to `out` as JSON lines.
    pub fn spawn_writer(&self, out: impl Write + Send + 'static) {
        let queue = self.clone();
        std::thread::spawn(move || {
            let mut out = std::io::BufWriter::new(out);
            let mut batch = Vec::new();
            loop {
                std::thread::sleep(Duration::from_millis(1));
                if let Ok(mut q) = queue.0.lock() {
                    std::mem::swap(&mut *q, &mut batch);
                }
                for record in batch.drain(..) {
                    let _ = write_json(&mut out, &record);
                }
                let _ = out.flush();
            }
        });
    }
}

fn millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

fn write_json(out: &mut impl Write, record: &Record) -> std::io::Result<()> {
    match record {
        Record::Handler { at, id, order_id } => writeln!(
            out,
            r#"{{"ts":{},"level":"INFO","msg":"fetching order","correlation_id":"{}","sampled":true,"sample_rate":1.0,"order_id":{order_id}}}"#,
            millis(*at),
            id.as_str()
        ),
        Record::Access {
            at,
            id,
            status,
            latency,
            info,
            response_bytes,
        } => {
            write!(
                out,
                r#"{{"ts":{},"level":"{}","msg":"request","correlation_id":"{}","sampled":true,"sample_rate":1.0,"method":"{}","route":"{}","path":"{}","status":{status},"latency_us":{}"#,
                millis(*at),
                level_for(*status),
                id.as_str(),
                info.method,
                info.route.as_ref().map_or("", MatchedPath::as_str),
                info.path.as_str(),
                latency.as_micros()
            )?;
            if let Some(bytes) = info.request_bytes {
                write!(out, r#","request_bytes":{bytes}"#)?;
            }
            if let Some(bytes) = response_bytes {
                write!(out, r#","response_bytes":{bytes}"#)?;
            }
            writeln!(out, "}}")
        }
    }
}

fn level_for(status: u16) -> &'static str {
    match status {
        500.. => "ERROR",
        400..=499 => "WARN",
        _ => "INFO",
    }
}

fn generate_id(at: SystemTime) -> FloorId {
    let mut random = [0u8; 10];
    fastrand::fill(&mut random);
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis(at) as u64, &random).into_uuid();
    let mut id = [0u8; 36];
    uuid.hyphenated().encode_lower(&mut id);
    FloorId(id)
}

#[derive(Clone)]
struct FloorLayer {
    queue: Option<FloorQueue>,
    anchor: Anchor,
}

impl<S> Layer<S> for FloorLayer {
    type Service = FloorService<S>;
    fn layer(&self, inner: S) -> FloorService<S> {
        FloorService {
            inner,
            queue: self.queue.clone(),
            anchor: self.anchor,
        }
    }
}

#[derive(Clone)]
struct FloorService<S> {
    inner: S,
    queue: Option<FloorQueue>,
    anchor: Anchor,
}

const ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const SAMPLED_HEADER: HeaderName = HeaderName::from_static("x-log-sampled");

impl<S, B, R> Service<Request<B>> for FloorService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    B: Body,
    R: Body + Default,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = FloorFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let id = generate_id(self.anchor.wall(started));
        let info = self.queue.is_some().then(|| RequestInfo::capture(&req));
        let log = RequestLog {
            id,
            queue: self.queue.clone(),
        };
        req.extensions_mut().insert(log.clone());
        let inner = REQUEST_LOG.scope(log, self.inner.call(req));
        FloorFuture {
            inner,
            info,
            id,
            started,
            queue: self.queue.clone(),
            anchor: self.anchor,
        }
    }
}

pin_project_lite::pin_project! {
    struct FloorFuture<F> {
        #[pin]
        inner: TaskLocalFuture<RequestLog, F>,
        info: Option<RequestInfo>,
        id: FloorId,
        started: Instant,
        queue: Option<FloorQueue>,
        anchor: Anchor,
    }
}

impl<F, R, E> Future for FloorFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
    R: Body + Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let mut res = match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(Ok(res))) => res,
            Ok(other) => return other,
            Err(_panic) => {
                let mut res = Response::new(R::default());
                *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                res
            }
        };
        KEPT.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let latency = now.duration_since(*this.started);
        if let (Some(queue), Some(info)) = (this.queue, this.info.take()) {
            queue.push(Record::Access {
                at: this.anchor.wall(now),
                id: *this.id,
                status: res.status().as_u16(),
                latency,
                response_bytes: body_bytes(res.body(), res.headers()),
                info,
            });
        }
        if let Ok(value) = HeaderValue::from_bytes(&this.id.0) {
            res.headers_mut().insert(ID_HEADER, value);
        }
        res.headers_mut()
            .insert(SAMPLED_HEADER, HeaderValue::from_static("true"));
        Poll::Ready(Ok(res))
    }
}

async fn floor_handler(Extension(log): Extension<RequestLog>, Path(order_id): Path<u64>) -> String {
    if let Some(queue) = &log.queue {
        // The handler's event is stamped with the wall clock (the access
        // event is stamped from the latency's monotonic reading).
        queue.push(Record::Handler {
            at: SystemTime::now(),
            id: log.id,
            order_id,
        });
    }
    format!("order {order_id}")
}

/// The floor stack: the middleware bench's route and handler; the two events
/// go to `queue`'s writer, or nowhere without one.
pub fn floor(queue: Option<FloorQueue>) -> Router {
    Router::new()
        .route("/orders/{id}", get(floor_handler))
        .layer(FloorLayer {
            queue,
            anchor: Anchor::new(),
        })
}
