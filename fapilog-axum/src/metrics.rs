//! The layer's request counters, reported with the pipeline's own.

use std::sync::atomic::{AtomicU64, Ordering};

use fapilog_core::pipeline::{ExtraCounter, MetricsSource};

/// Counts what the layer decided for each request.
#[derive(Debug, Default)]
pub(crate) struct LayerCounters {
    kept: AtomicU64,
    unkept: AtomicU64,
    promoted: AtomicU64,
    excluded: AtomicU64,
    ids_replaced: AtomicU64,
    buffer_overwritten: AtomicU64,
    budget_exhausted: AtomicU64,
    panics: AtomicU64,
    cancelled: AtomicU64,
}

fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl LayerCounters {
    /// Records how a finished request ended. (The request total is kept +
    /// unkept: one atomic increment per request fewer.)
    pub(crate) fn record_request(&self, kept: bool, promoted: bool, excluded: bool) {
        bump(if kept { &self.kept } else { &self.unkept }, 1);
        if promoted {
            bump(&self.promoted, 1);
        }
        if excluded {
            bump(&self.excluded, 1);
        }
    }

    pub(crate) fn add_id_replaced(&self) {
        bump(&self.ids_replaced, 1);
    }

    pub(crate) fn add_buffer_overwritten(&self, n: u64) {
        bump(&self.buffer_overwritten, n);
    }

    pub(crate) fn add_budget_exhausted(&self, n: u64) {
        bump(&self.budget_exhausted, n);
    }

    pub(crate) fn add_panic(&self) {
        bump(&self.panics, 1);
    }

    pub(crate) fn add_cancelled(&self) {
        bump(&self.cancelled, 1);
    }
}

impl MetricsSource for LayerCounters {
    fn collect(&self, out: &mut Vec<ExtraCounter>) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        out.extend([
            ExtraCounter::new(
                "fapilog_requests_total",
                "Requests handled by the layer.",
                get(&self.kept) + get(&self.unkept),
            ),
            ExtraCounter::new(
                "fapilog_requests_kept_total",
                "Requests whose logs were kept (sampled or promoted).",
                get(&self.kept),
            ),
            ExtraCounter::new(
                "fapilog_requests_unkept_total",
                "Requests whose logs were discarded.",
                get(&self.unkept),
            ),
            ExtraCounter::new(
                "fapilog_requests_promoted_total",
                "Unsampled requests kept because they failed.",
                get(&self.promoted),
            ),
            ExtraCounter::new(
                "fapilog_requests_excluded_total",
                "Requests on a never-sampled path.",
                get(&self.excluded),
            ),
            ExtraCounter::new(
                "fapilog_correlation_ids_replaced_total",
                "Invalid incoming correlation IDs replaced by a generated one.",
                get(&self.ids_replaced),
            ),
            ExtraCounter::new(
                "fapilog_request_buffer_overwritten_total",
                "Held events overwritten because a request's buffer was full.",
                get(&self.buffer_overwritten),
            ),
            ExtraCounter::new(
                "fapilog_request_budget_exhausted_total",
                "Events not held because the global hold budget was used up.",
                get(&self.budget_exhausted),
            ),
            ExtraCounter::new(
                "fapilog_handler_panics_total",
                "Handler panics caught by the layer.",
                get(&self.panics),
            ),
            ExtraCounter::new(
                "fapilog_requests_cancelled_total",
                "Requests dropped before they answered (the client went away).",
                get(&self.cancelled),
            ),
        ]);
    }
}
