//! The sizes of streamed bodies, for the access log, and the request's scope
//! while a streamed response body runs.
//!
//! A body whose size is declared (`content-length`) or exact (its
//! `size_hint`, as for every buffered axum body) is measured without touching
//! it. Only an axum [`Body`] of unknown size (chunked, streamed) is wrapped,
//! which boxes it once more:
//!
//! - a streamed request body counts the bytes the application reads;
//! - a streamed response body counts the bytes handed to the server, and
//!   writes the request's access event when it ends, fails or is dropped (the
//!   client went away): then with `response_incomplete: true`.
//!
//! A response that has no body to send (to HEAD, or 1xx, 204, 304) is never
//! wrapped: the server drops its body unread. Bodies of other types keep an
//! unknown size: the field is left out.
//!
//! A streamed response body runs the application's code (the stream) after
//! the handler has returned, outside the request's task-local scope. So an
//! axum [`Body`] of unknown size is polled in the request's logger scope
//! (wrapped for that alone when the access log does not wait for it): what
//! the stream logs carries the request's context and goes through its gate.

use std::any::Any;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::body::{Body, Bytes};
use axum::BoxError;
use http_body::{Body as HttpBody, Frame, SizeHint};

use fapilog_core::Logger;

use crate::access_log::PendingAccess;
use crate::extract::CURRENT;

/// `body`, if it is an axum [`Body`]: the only type that can be wrapped.
pub(crate) fn axum_body<B: 'static>(body: &mut B) -> Option<&mut Body> {
    (body as &mut dyn Any).downcast_mut::<Body>()
}

/// Wraps a streamed request body; returns the count of bytes read from it.
pub(crate) fn count_read(body: &mut Body) -> Arc<AtomicU64> {
    let read = Arc::new(AtomicU64::new(0));
    wrap(body, Tally::Read(Arc::clone(&read)));
    read
}

/// Wraps a streamed response body so that it writes `pending` at its end,
/// polled in the scope of `pending`'s logger.
pub(crate) fn write_at_end(body: &mut Body, pending: PendingAccess) {
    let tally = Tally::Sent {
        sent: 0,
        pending: Some(pending),
    };
    wrap(body, tally);
}

/// Polls a streamed response body (an axum [`Body`] of unknown size) in
/// `logger`'s scope; leaves other bodies as they are. Returns whether the
/// body now holds a clone of `logger`.
pub(crate) fn scope_stream<B: HttpBody + 'static>(body: &mut B, logger: &Logger) -> bool {
    if body.size_hint().exact().is_some() || body.is_end_stream() {
        return false;
    }
    let Some(body) = axum_body(body) else {
        return false;
    };
    scope(body, logger);
    true
}

/// Polls `body` in `logger`'s scope.
pub(crate) fn scope(body: &mut Body, logger: &Logger) {
    wrap(body, Tally::Scoped(logger.clone()));
}

fn wrap(body: &mut Body, tally: Tally) {
    let inner = std::mem::take(body);
    *body = Body::new(Counted { inner, tally });
}

/// What a counted body does with the bytes that pass through it.
enum Tally {
    /// A request body: the bytes read, shared with the access log.
    Read(Arc<AtomicU64>),
    /// A response body: the bytes sent, and the access event to write at the end.
    Sent {
        sent: u64,
        pending: Option<PendingAccess>,
    },
    /// A response body that is only polled in the request's scope.
    Scoped(Logger),
}

impl Tally {
    fn add(&mut self, n: u64) {
        match self {
            Tally::Read(read) => {
                read.fetch_add(n, Ordering::Relaxed);
            }
            Tally::Sent { sent, .. } => *sent += n,
            Tally::Scoped(_) => {}
        }
    }

    /// The request's logger, current while a response body is polled.
    fn scope(&self) -> Option<&Logger> {
        match self {
            Tally::Read(_) => None,
            Tally::Sent { pending, .. } => pending.as_ref().map(PendingAccess::logger),
            Tally::Scoped(logger) => Some(logger),
        }
    }

    fn end(&mut self, complete: bool) {
        if let Tally::Sent { sent, pending } = self {
            if let Some(pending) = pending.take() {
                pending.write(Some(*sent), complete);
            }
        }
    }
}

struct Counted {
    inner: Body,
    tally: Tally,
}

impl HttpBody for Counted {
    type Data = Bytes;
    // The inner error unwrapped: `Body::new` wraps it again, once.
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let inner = Pin::new(&mut this.inner);
        let polled = match this.tally.scope() {
            Some(logger) => CURRENT.sync_scope(logger.clone(), || inner.poll_frame(cx)),
            None => inner.poll_frame(cx),
        };
        let frame = ready!(polled).map(|frame| frame.map_err(axum::Error::into_inner));
        match &frame {
            Some(Ok(frame)) => {
                this.tally
                    .add(frame.data_ref().map_or(0, |data| data.len() as u64));
                // The server stops polling once the body says it has ended.
                if this.inner.is_end_stream() {
                    this.tally.end(true);
                }
            }
            Some(Err(_)) => this.tally.end(false),
            None => this.tally.end(true),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let complete = self.inner.is_end_stream();
        self.tally.end(complete);
    }
}
