//! Hooks for the hot-path profiler (`examples/profile_hot_path.rs`); not a stable API.
//!
//! The profiler times each step of an enabled call and of the writer's
//! per-event work on its own. Most steps use public items (the level gate,
//! [`Timestamp::now`], the field macros, [`Pipeline::submit`],
//! [`Redactor::redact`](crate::process::Redactor::redact), the formats and
//! sinks); the few that are internal are reached through the wrappers here,
//! which run the very code the logger and the writer run.
//!
//! # Example
//!
//! ```
//! use fapilog_core::profiling::{assemble, QueueProbe, StagesProbe};
//! use fapilog_core::process::Redactor;
//! use fapilog_core::{Level, Timestamp};
//! use std::collections::VecDeque;
//!
//! let queue = QueueProbe::new(16);
//! let mut event = assemble(Timestamp::now(), Level::Info, None, "hi".into(), None, 0);
//! event.push_field("user_id", 7u64);
//! queue.push(event);
//! let mut batch = VecDeque::new();
//! assert_eq!(queue.take_batch(&mut batch), 1);
//! let mut stages = StagesProbe::new(Redactor::new());
//! stages.process(batch.pop_front().unwrap());
//! stages.redact();
//! assert_eq!(stages.events().next().unwrap().seq(), Some(1));
//! ```

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::context::Context;
use crate::event::{Message, RawEvent, Timestamp};
use crate::level::Level;
use crate::pipeline::queue::Queue;
use crate::pipeline::{OverflowPolicy, Pipeline};
use crate::process::{Item, Redactor, Stages, Tally};

/// Starts a raw event exactly as the call site does (the macros push their
/// fields into it next), but with the timestamp given (so that taking it can
/// be timed on its own).
#[inline]
pub fn assemble(
    timestamp: Timestamp,
    level: Level,
    target: Option<&'static str>,
    message: Message,
    context: Option<Arc<Context>>,
    thread: u32,
) -> RawEvent {
    RawEvent::start_at(timestamp, level, target, message, context, thread)
}

/// The caller's thread tag as an enabled call takes it (0 unless the
/// `thread.name` enricher is on).
#[inline]
pub fn thread_tag(pipeline: &Pipeline) -> u32 {
    pipeline.thread_tag()
}

/// The pipeline's queue on its own, without a writer thread: the profiler
/// pushes from one thread and takes batches as the writer does.
#[derive(Debug)]
pub struct QueueProbe {
    queue: Queue,
}

impl QueueProbe {
    /// A queue holding up to `capacity` events (`DropNewest` when full).
    pub fn new(capacity: usize) -> Self {
        QueueProbe {
            queue: Queue::new(capacity, capacity, OverflowPolicy::DropNewest),
        }
    }

    /// Offers an event, as [`Pipeline::submit`] does.
    #[inline]
    pub fn push(&self, event: RawEvent) {
        self.queue.push(event);
    }

    /// Takes every queued event into `batch` (which must be empty) and marks
    /// the batch complete, as the writer does once per batch, without
    /// lingering. Returns how many events were taken.
    pub fn take_batch(&self, batch: &mut VecDeque<RawEvent>) -> usize {
        let take = self.queue.take(batch, Duration::ZERO, Some(Duration::ZERO));
        self.queue.complete(&take);
        batch.len()
    }
}

/// The writer's stages as a default pipeline has them (no enrichers, no
/// processors, the given redactor), with the list of records they produce.
#[derive(Debug)]
pub struct StagesProbe {
    stages: Stages,
    items: Vec<Item>,
    tally: Tally,
    now: Instant,
}

impl StagesProbe {
    /// The stages of a pipeline built with `redaction` and nothing else.
    pub fn new(redaction: Redactor) -> Self {
        StagesProbe {
            stages: Stages::new(Vec::new(), Vec::new(), redaction),
            items: Vec::new(),
            tally: Tally::default(),
            now: Instant::now(),
        }
    }

    /// Runs one event through the enrichers and processors into the record list.
    #[inline]
    pub fn process(&mut self, event: RawEvent) {
        self.stages
            .process(event, self.now, &mut self.items, &mut self.tally);
    }

    /// Redacts every record in the list, as the writer does once per batch.
    pub fn redact(&mut self) {
        self.stages.redact(&mut self.items, &mut self.tally);
    }

    /// The records in the list, in order.
    pub fn events(&self) -> impl Iterator<Item = &RawEvent> + '_ {
        self.items.iter().map(|item| &item.event)
    }

    /// How many records the list holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drops every record, as the writer does after writing a batch.
    pub fn clear(&mut self) {
        self.items.clear();
    }
}
