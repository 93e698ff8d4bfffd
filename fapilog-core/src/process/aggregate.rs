//! Aggregation of repetitive logs from targets configured as system noise.
//!
//! Events are grouped by target, level, message template (the message as
//! written at the call, fields aside) and correlation ID. The first
//! event of a group opens a window (default [`DEFAULT_AGGREGATION_WINDOW`], at
//! most [`MAX_AGGREGATION_WINDOW`]) and the group's events are held. When the
//! window ends:
//!
//! - with at most `threshold` (default [`DEFAULT_AGGREGATION_THRESHOLD`])
//!   events, they are written one by one, unchanged;
//! - with more, they are written as **one** record: the first occurrence, with
//!   its full context and fields, plus `aggregated: true`, `count` (events it
//!   stands for), `first_seen` and `last_seen` (RFC 3339 capture times) and
//!   `window_s` (seconds between them). The other events count as
//!   `dropped.aggregated`; the record itself counts as written.
//!
//! Groups never span correlation IDs: an event with another correlation ID
//! (or none) never joins a group. By default a group is written out when its
//! correlation changes: an event with the same target, level and message but
//! another correlation ID ends it and opens the next one. Requests served
//! concurrently then cut each other's groups short; with
//! [`flush_on_correlation_change(false)`](Aggregator::flush_on_correlation_change)
//! each correlation ID keeps a group of its own instead, so interleaved
//! requests are aggregated each on its own, still never merged. A group is
//! also written out early when it reaches `max_count` (at most
//! [`MAX_AGGREGATION_COUNT`]), when it is the least recently used of
//! `max_keys` groups (default [`DEFAULT_AGGREGATION_KEYS`]) and room is
//! needed, and when the pipeline is flushed or shut down. ERROR and above are
//! never aggregated, and events from other targets pass straight through.
//!
//! A user field of the first occurrence named like one of the aggregate's
//! keys is replaced by it in the aggregated record.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::process::Aggregator;
//! use fapilog_core::sink::MemorySink;
//! use fapilog_core::{Level, Pipeline};
//!
//! let sink = MemorySink::new();
//! let (pipeline, guard) = Pipeline::builder()
//!     .level(Level::Debug)
//!     .sink(sink.clone(), JsonFormat::new())
//!     .aggregation(Aggregator::new(["my_app::pool"]))
//!     .build()?;
//! let log = pipeline.logger();
//! for _ in 0..8 {
//!     log.event(Level::Debug, "connection acquired").target("my_app::pool").emit();
//! }
//! let report = guard.shutdown(std::time::Duration::from_secs(5)); // writes the group out
//! assert_eq!(sink.lines().len(), 1);
//! assert!(sink.lines()[0].contains(r#""msg":"connection acquired""#));
//! assert!(sink.lines()[0].contains(r#""aggregated":true,"count":8,"first_seen":"#));
//! assert_eq!((report.written, report.metrics.dropped.aggregated), (1, 7));
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use crate::context::CorrelationText;
use crate::error::ConfigError;
use crate::event::{Message, RawEvent, Timestamp};
use crate::filter::{covers, is_target, TARGET_RULE};
use crate::format::time::rfc3339_micros;
use crate::level::Level;
use crate::process::recency::Recency;
use crate::process::{Discard, Emit, Processor};
use crate::value::{Field, Value};

/// Default number of occurrences in a window that are still written one by one.
pub const DEFAULT_AGGREGATION_THRESHOLD: usize = 5;
/// Default aggregation window.
pub const DEFAULT_AGGREGATION_WINDOW: Duration = Duration::from_secs(1);
/// Longest aggregation window accepted.
pub const MAX_AGGREGATION_WINDOW: Duration = Duration::from_secs(10);
/// Most events one aggregated record stands for (also the default).
pub const MAX_AGGREGATION_COUNT: u64 = 1000;
/// Default number of groups tracked at once.
pub const DEFAULT_AGGREGATION_KEYS: usize = 1000;
/// Most groups that can be configured.
const MAX_KEYS: usize = 1_000_000;

/// The keys an aggregated record adds.
const AGGREGATE_KEYS: [&str; 5] = ["aggregated", "count", "first_seen", "last_seen", "window_s"];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    target: &'static str,
    level: Level,
    message: Message,
    correlation: Option<CorrelationText>,
}

#[derive(Debug)]
struct Group {
    /// The group's correlation ID, when it is not part of the key.
    correlation: Option<CorrelationText>,
    opened: Instant,
    created: u64,
    /// The key's place in [`Aggregator::recency`].
    slot: usize,
    /// Events held while the group has at most `threshold` of them.
    held: Vec<RawEvent>,
    /// Once over the threshold: the first occurrence and the count.
    aggregate: Option<Aggregate>,
}

#[derive(Debug)]
struct Aggregate {
    first: RawEvent,
    count: u64,
    /// The earliest and latest capture times: events reach the writer in
    /// queue order, which two threads can make differ from capture order.
    first_seen: Timestamp,
    last_seen: Timestamp,
}

impl Aggregate {
    /// Takes in the capture time of an event of the group.
    fn saw(&mut self, at: Timestamp) {
        self.first_seen = self.first_seen.min(at);
        self.last_seen = self.last_seen.max(at);
    }
}

impl Group {
    fn count(&self) -> u64 {
        self.aggregate
            .as_ref()
            .map_or(self.held.len() as u64, |a| a.count)
    }
}

/// Merges repetitive events of system-noise targets into aggregated records.
///
/// Add it with [`PipelineBuilder::aggregation`](crate::pipeline::PipelineBuilder::aggregation);
/// the settings are checked when the pipeline is built.
pub struct Aggregator {
    targets: Vec<String>,
    threshold: usize,
    window: Duration,
    max_count: u64,
    max_keys: usize,
    flush_on_correlation_change: bool,
    groups: HashMap<GroupKey, Group>,
    recency: Recency<GroupKey>,
    /// Every group's slot in `recency` by its `opened` and `created`: by deadline.
    deadlines: BTreeMap<(Instant, u64), usize>,
    /// Groups opened so far: each group's `created`, a tie-break among equal deadlines.
    groups_opened: u64,
}

impl Aggregator {
    /// Aggregates events whose target is one of `targets` or below one
    /// (`sqlx::pool` covers `sqlx::pool::inner`), with the default settings.
    pub fn new<I, S>(targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Aggregator {
            targets: targets.into_iter().map(Into::into).collect(),
            threshold: DEFAULT_AGGREGATION_THRESHOLD,
            window: DEFAULT_AGGREGATION_WINDOW,
            max_count: MAX_AGGREGATION_COUNT,
            max_keys: DEFAULT_AGGREGATION_KEYS,
            flush_on_correlation_change: true,
            groups: HashMap::new(),
            recency: Recency::new(),
            deadlines: BTreeMap::new(),
            groups_opened: 0,
        }
    }

    /// Occurrences within a window still written one by one; one more makes
    /// an aggregated record. Default: [`DEFAULT_AGGREGATION_THRESHOLD`]; at least 1.
    #[must_use]
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// The window, from a group's first event. Default:
    /// [`DEFAULT_AGGREGATION_WINDOW`]; more than 0, at most [`MAX_AGGREGATION_WINDOW`].
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Most events one record stands for. Default and maximum:
    /// [`MAX_AGGREGATION_COUNT`]; more than the threshold.
    #[must_use]
    pub fn max_count(mut self, max_count: u64) -> Self {
        self.max_count = max_count;
        self
    }

    /// Most groups tracked; the least recently used is written out to make
    /// room. Default: [`DEFAULT_AGGREGATION_KEYS`]; 1..=1,000,000.
    #[must_use]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Whether an event with another correlation ID ends the group of the
    /// same target, level and message (default `true`). With `false`, each
    /// correlation ID has groups of its own, which suits servers whose
    /// requests log the same noise concurrently.
    #[must_use]
    pub fn flush_on_correlation_change(mut self, flush: bool) -> Self {
        self.flush_on_correlation_change = flush;
        self
    }

    /// Checks every setting, naming the one at fault.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `aggregation.<setting>`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(bad) = self.targets.iter().find(|t| !is_target(t)) {
            return Err(ConfigError::invalid(
                "aggregation.targets",
                format!("{bad:?}"),
                TARGET_RULE,
            ));
        }
        if self.threshold == 0 {
            return Err(ConfigError::invalid(
                "aggregation.threshold",
                0,
                "must be at least 1",
            ));
        }
        if self.window.is_zero() || self.window > MAX_AGGREGATION_WINDOW {
            return Err(ConfigError::invalid(
                "aggregation.window_ms",
                self.window.as_millis(),
                format!(
                    "must be between 1 and {} (milliseconds)",
                    MAX_AGGREGATION_WINDOW.as_millis()
                ),
            ));
        }
        if self.max_count <= self.threshold as u64 || self.max_count > MAX_AGGREGATION_COUNT {
            return Err(ConfigError::invalid(
                "aggregation.max_count",
                self.max_count,
                format!(
                    "must be more than aggregation.threshold and at most {MAX_AGGREGATION_COUNT}"
                ),
            ));
        }
        if !(1..=MAX_KEYS).contains(&self.max_keys) {
            return Err(ConfigError::invalid(
                "aggregation.max_keys",
                self.max_keys,
                format!("must be between 1 and {MAX_KEYS}"),
            ));
        }
        Ok(())
    }

    /// How many groups are tracked now.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    fn applies_to(&self, event: &RawEvent) -> Option<&'static str> {
        let target = event.target?;
        (!event.level.is_protected() && self.targets.iter().any(|t| covers(t, target)))
            .then_some(target)
    }

    fn add(&mut self, key: GroupKey, event: RawEvent, out: &mut Emit<'_>) {
        let Some(group) = self.groups.get_mut(&key) else {
            return;
        };
        self.recency.touch(group.slot);
        match &mut group.aggregate {
            Some(agg) => {
                agg.count += 1;
                agg.saw(event.timestamp);
                out.discard_as(event, Discard::Aggregated);
            }
            None => {
                group.held.push(event);
                if group.held.len() > self.threshold {
                    let mut held = std::mem::take(&mut group.held).into_iter();
                    if let Some(first) = held.next() {
                        let count = 1 + held.len() as u64;
                        out.discard_many(count - 1, Discard::Aggregated);
                        let mut agg = Aggregate {
                            first_seen: first.timestamp,
                            last_seen: first.timestamp,
                            first,
                            count,
                        };
                        held.for_each(|e| agg.saw(e.timestamp));
                        group.aggregate = Some(agg);
                    }
                }
            }
        }
        if group.count() >= self.max_count {
            self.write_out(&key, out);
        }
    }

    fn open(
        &mut self,
        key: GroupKey,
        correlation: Option<CorrelationText>,
        event: RawEvent,
        now: Instant,
        out: &mut Emit<'_>,
    ) {
        if self.groups.len() >= self.max_keys {
            if let Some(oldest) = self.recency.oldest().cloned() {
                self.write_out(&oldest, out);
            }
        }
        self.groups_opened += 1;
        let slot = self.recency.push(key.clone());
        self.deadlines.insert((now, self.groups_opened), slot);
        self.groups.insert(
            key,
            Group {
                correlation,
                opened: now,
                created: self.groups_opened,
                slot,
                held: vec![event],
                aggregate: None,
            },
        );
    }

    fn write_out(&mut self, key: &GroupKey, out: &mut Emit<'_>) {
        if let Some(group) = self.groups.remove(key) {
            self.recency.remove(group.slot);
            self.deadlines.remove(&(group.opened, group.created));
            emit_group(group, out);
        }
    }

    /// Writes out these groups, given with their `created`, oldest first.
    fn write_out_in_order(&mut self, mut done: Vec<(u64, GroupKey)>, out: &mut Emit<'_>) {
        done.sort_unstable_by_key(|(created, _)| *created);
        for (_, key) in done {
            self.write_out(&key, out);
        }
    }
}

fn emit_group(group: Group, out: &mut Emit<'_>) {
    match group.aggregate {
        None => group.held.into_iter().for_each(|e| out.pass(e)),
        Some(agg) => out.pass(aggregated_record(agg)),
    }
}

fn aggregated_record(agg: Aggregate) -> RawEvent {
    let mut record = agg.first;
    let first_seen = agg.first_seen;
    record.fields.retain(|f| !AGGREGATE_KEYS.contains(&f.key()));
    let window_s = agg
        .last_seen
        .unix_nanos()
        .saturating_sub(first_seen.unix_nanos()) as f64
        / 1e9;
    record.fields.push(Field::new("aggregated", true));
    record.fields.push(Field::new("count", agg.count));
    record
        .fields
        .push(Field::new("first_seen", rfc3339_value(first_seen)));
    record
        .fields
        .push(Field::new("last_seen", rfc3339_value(agg.last_seen)));
    record
        .fields
        .push(Field::new("window_s", (window_s * 1000.0).round() / 1000.0));
    record
}

fn rfc3339_value(ts: Timestamp) -> Value {
    let bytes = rfc3339_micros(ts);
    Value::from_str_copied(std::str::from_utf8(&bytes).unwrap_or_default())
}

impl Processor for Aggregator {
    fn process(&mut self, event: RawEvent, now: Instant, out: &mut Emit<'_>) {
        let Some(target) = self.applies_to(&event) else {
            out.pass(event);
            return;
        };
        let correlation = event
            .context
            .as_deref()
            .and_then(|c| c.correlation_text().cloned());
        let key = GroupKey {
            target,
            level: event.level,
            message: event.message.clone(),
            correlation: if self.flush_on_correlation_change {
                None
            } else {
                correlation.clone()
            },
        };
        let window = self.window;
        let ended = self
            .groups
            .get(&key)
            .is_some_and(|g| now >= g.opened + window || g.correlation != correlation);
        if ended {
            self.write_out(&key, out);
        }
        if self.groups.contains_key(&key) {
            self.add(key, event, out);
        } else {
            self.open(key, correlation, event, now, out);
        }
    }

    fn tick(&mut self, now: Instant, out: &mut Emit<'_>) {
        let window = self.window;
        let due = self
            .deadlines
            .iter()
            .take_while(|((opened, _), _)| now >= *opened + window)
            .filter_map(|((_, created), slot)| Some((*created, self.recency.get(*slot)?.clone())))
            .collect();
        self.write_out_in_order(due, out);
    }

    fn next_deadline(&self) -> Option<Instant> {
        let ((opened, _), _) = self.deadlines.first_key_value()?;
        Some(*opened + self.window)
    }

    fn flush(&mut self, out: &mut Emit<'_>) {
        let all = self
            .groups
            .iter()
            .map(|(key, g)| (g.created, key.clone()))
            .collect();
        self.write_out_in_order(all, out);
    }

    fn name(&self) -> &str {
        "aggregation"
    }
}

impl fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aggregator")
            .field("targets", &self.targets)
            .field("threshold", &self.threshold)
            .field("window", &self.window)
            .field("max_count", &self.max_count)
            .field("max_keys", &self.max_keys)
            .field(
                "flush_on_correlation_change",
                &self.flush_on_correlation_change,
            )
            .field("groups", &self.groups.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use crate::process::{Item, ItemKind, Tally};
    use std::sync::Arc;

    struct Harness {
        agg: Aggregator,
        t0: Instant,
        out: Vec<Item>,
        tally: Tally,
    }

    impl Harness {
        fn new(agg: Aggregator) -> Self {
            agg.validate().unwrap();
            Harness {
                agg,
                t0: Instant::now(),
                out: Vec::new(),
                tally: Tally::default(),
            }
        }

        fn log(
            &mut self,
            at_ms: u64,
            target: &'static str,
            level: Level,
            msg: &'static str,
            corr: Option<&str>,
        ) {
            let mut e = RawEvent::new(level, msg);
            e.set_target(target);
            if let Some(id) = corr {
                e.set_context(Arc::new(Context::new().with_correlation_id(id)));
            }
            let now = self.t0 + Duration::from_millis(at_ms);
            let mut emit = Emit::new(&mut self.out, &mut self.tally);
            self.agg.process(e, now, &mut emit);
        }

        fn tick(&mut self, at_ms: u64) {
            let mut emit = Emit::new(&mut self.out, &mut self.tally);
            self.agg
                .tick(self.t0 + Duration::from_millis(at_ms), &mut emit);
        }

        fn flush(&mut self) {
            let mut emit = Emit::new(&mut self.out, &mut self.tally);
            self.agg.flush(&mut emit);
        }

        fn counts(&self) -> Vec<Option<u64>> {
            self.out
                .iter()
                .inspect(|i| assert_eq!(i.kind, ItemKind::Event))
                .map(|i| {
                    i.event
                        .fields()
                        .iter()
                        .find(|f| f.key() == "count")
                        .and_then(|f| f.value().as_u64())
                })
                .collect()
        }

        /// Events in == written + aggregated.
        fn assert_balanced(&self, logged: u64) {
            assert_eq!(self.out.len() as u64 + self.tally.aggregated, logged);
        }
    }

    const POOL: &str = "sqlx::pool";

    #[test]
    fn five_repeats_are_written_one_by_one() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..5 {
            h.log(i * 100, POOL, Level::Debug, "acquired", None);
        }
        assert!(h.out.is_empty(), "held until the window ends");
        assert_eq!(h.agg.next_deadline(), Some(h.t0 + Duration::from_secs(1)));
        h.tick(999);
        assert!(h.out.is_empty());
        h.tick(1000);
        assert_eq!(h.counts(), [None; 5]);
        h.assert_balanced(5);
        assert_eq!(h.agg.groups(), 0);
    }

    #[test]
    fn six_repeats_become_one_record_with_the_first_context() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..6 {
            h.log(
                i * 100,
                "sqlx::pool::conn",
                Level::Info,
                "acquired",
                Some("c-1"),
            );
        }
        h.tick(1000);
        assert_eq!(h.counts(), [Some(6)]);
        let record = &h.out[0].event;
        assert_eq!(record.context().unwrap().correlation_id(), Some("c-1"));
        assert_eq!(record.fields()[0].key(), "aggregated");
        assert_eq!(record.fields()[0].value().as_bool(), Some(true));
        assert!(record.fields()[2].value().as_str().unwrap().ends_with('Z'));
        assert_eq!(h.tally.aggregated, 5);
        h.assert_balanced(6);
    }

    #[test]
    fn first_and_last_seen_are_the_earliest_and_latest_capture_times() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        let epoch = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // Queue order is not capture order when two threads log.
        for secs in [3, 1, 4, 2, 6, 5, 0] {
            let at = Timestamp::from(epoch + Duration::from_secs(secs));
            let e = RawEvent::start_at(at, Level::Info, Some(POOL), "acquired".into(), None, 0);
            let mut emit = Emit::new(&mut h.out, &mut h.tally);
            h.agg.process(e, h.t0, &mut emit);
        }
        h.flush();
        let record = &h.out[0].event;
        let field = |key: &str| {
            let found = record.fields().iter().find(|f| f.key() == key).unwrap();
            found.value().clone()
        };
        assert_eq!(
            field("first_seen").as_str(),
            Some("2023-11-14T22:13:20.000000Z")
        );
        assert_eq!(
            field("last_seen").as_str(),
            Some("2023-11-14T22:13:26.000000Z")
        );
        assert_eq!(field("window_s").as_f64(), Some(6.0));
    }

    #[test]
    fn a_window_over_ends_the_group() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..3 {
            h.log(i * 100, POOL, Level::Info, "m", None);
        }
        // Past the window: the first three go out alone, a new group opens.
        for i in 0..3 {
            h.log(1000 + i * 100, POOL, Level::Info, "m", None);
        }
        assert_eq!(h.counts(), [None; 3]);
        h.flush();
        assert_eq!(h.counts(), [None; 6]);
    }

    #[test]
    fn counts_stop_at_max_count() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for _ in 0..2500 {
            h.log(0, POOL, Level::Debug, "tick", None);
        }
        assert_eq!(h.counts(), [Some(1000), Some(1000)]);
        h.flush();
        assert_eq!(h.counts(), [Some(1000), Some(1000), Some(500)]);
        h.assert_balanced(2500);
    }

    #[test]
    fn exactly_1001_makes_a_full_record_and_a_single_event() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for _ in 0..1001 {
            h.log(0, POOL, Level::Debug, "tick", None);
        }
        h.flush();
        assert_eq!(h.counts(), [Some(1000), None]);
        h.assert_balanced(1001);
    }

    #[test]
    fn a_correlation_change_writes_the_group_out() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..6 {
            h.log(i, POOL, Level::Info, "m", Some("a"));
        }
        assert!(h.out.is_empty());
        h.log(10, POOL, Level::Info, "m", Some("b"));
        assert_eq!(h.counts(), [Some(6)], "a's group ends when b's event comes");
        h.log(11, POOL, Level::Info, "m", None);
        assert_eq!(h.counts(), [Some(6), None], "b's single event ends too");
        h.log(12, POOL, Level::Info, "other", Some("c"));
        assert_eq!(h.out.len(), 2, "another message is another group");
        h.flush();
        assert_eq!(h.counts(), [Some(6), None, None, None]);
        h.assert_balanced(9);
    }

    #[test]
    fn interleaved_correlations_are_never_merged_by_default() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..6 {
            h.log(i, POOL, Level::Info, "m", Some("a"));
            h.log(i, POOL, Level::Info, "m", Some("b"));
        }
        h.flush();
        assert_eq!(h.counts(), [None; 12]);
        let ids: Vec<_> = h
            .out
            .iter()
            .map(|i| i.event.context().and_then(Context::correlation_id))
            .collect();
        assert_eq!(ids[..4], [Some("a"), Some("b"), Some("a"), Some("b")]);
        h.assert_balanced(12);
    }

    #[test]
    fn groups_never_span_correlation_ids() {
        let mut h = Harness::new(Aggregator::new([POOL]).flush_on_correlation_change(false));
        // Two requests served at once, interleaved, plus events outside any request.
        for i in 0..6 {
            h.log(i, POOL, Level::Info, "m", Some("a"));
            h.log(i, POOL, Level::Info, "m", Some("b"));
        }
        for i in 0..3 {
            h.log(i, POOL, Level::Info, "m", Some("c"));
            h.log(i, POOL, Level::Info, "m", None);
        }
        assert!(h.out.is_empty());
        h.flush();
        assert_eq!(
            h.counts(),
            [Some(6), Some(6), None, None, None, None, None, None]
        );
        h.assert_balanced(18);
        let ids: Vec<_> = h
            .out
            .iter()
            .map(|i| i.event.context().and_then(Context::correlation_id))
            .collect();
        assert_eq!(ids[..2], [Some("a"), Some("b")]);
        assert_eq!(ids[2..].iter().filter(|id| **id == Some("c")).count(), 3);
        assert_eq!(ids[2..].iter().filter(|id| id.is_none()).count(), 3);
    }

    #[test]
    fn other_targets_errors_and_other_messages_are_separate() {
        let mut h = Harness::new(Aggregator::new([POOL]));
        for i in 0..10 {
            h.log(i, "my_app::orders", Level::Info, "m", None);
            h.log(i, POOL, Level::Error, "m", None);
            h.log(i, "sqlx::poolx", Level::Info, "m", None);
        }
        assert_eq!(h.out.len(), 30, "passed straight through");
        for i in 0..6 {
            h.log(i, POOL, Level::Info, "a", None);
            h.log(i, POOL, Level::Warn, "a", None);
            h.log(i, POOL, Level::Info, "b", None);
        }
        h.flush();
        assert_eq!(h.counts()[30..], [Some(6), Some(6), Some(6)]);
    }

    #[test]
    fn the_least_recently_used_group_makes_room() {
        let mut h = Harness::new(Aggregator::new([POOL]).max_keys(2));
        h.log(0, POOL, Level::Info, "a", None);
        h.log(1, POOL, Level::Info, "b", None);
        h.log(2, POOL, Level::Info, "a", None);
        h.log(3, POOL, Level::Info, "c", None); // evicts b, the least recently used
        assert_eq!(h.out.len(), 1);
        assert_eq!(h.out[0].event.message(), "b");
        assert_eq!(h.agg.groups(), 2);
    }

    /// (correlation ID, count) of each record written.
    fn written(out: &[Item]) -> Vec<(String, Option<u64>)> {
        out.iter()
            .map(|i| {
                let id = i.event.context().and_then(Context::correlation_id);
                let count = i.event.fields().iter().find(|f| f.key() == "count");
                (
                    id.unwrap_or("-").to_owned(),
                    count.and_then(|f| f.value().as_u64()),
                )
            })
            .collect()
    }

    #[test]
    fn eviction_follows_use_like_a_reference_lru() {
        let agg = Aggregator::new([POOL])
            .flush_on_correlation_change(false)
            .max_count(10)
            .max_keys(16);
        let mut h = Harness::new(agg);
        // Least recently used first: (correlation ID, count). Time stands
        // still, so groups end only when evicted or full.
        let mut model: Vec<(String, u64)> = Vec::new();
        let mut expected = Vec::new();
        let mut write = |(id, count): (String, u64)| match count {
            0..=5 => (0..count).for_each(|_| expected.push((id.clone(), None))),
            _ => expected.push((id, Some(count))),
        };
        let mut state = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            let id = format!("c{}", crate::process::xorshift(&mut state) % 24);
            h.log(0, POOL, Level::Info, "m", Some(&id));
            let count = match model.iter().position(|(m, _)| *m == id) {
                Some(i) => model.remove(i).1 + 1,
                None if model.len() == 16 => {
                    write(model.remove(0));
                    1
                }
                None => 1,
            };
            if count == 10 {
                write((id, count));
            } else {
                model.push((id, count));
            }
        }
        assert_eq!(written(&h.out), expected);
        h.flush();
        h.assert_balanced(3000);
    }

    #[test]
    fn ticks_write_out_the_groups_whose_window_ended_in_opening_order() {
        let mut h = Harness::new(Aggregator::new([POOL]).max_keys(3));
        for (at, msg) in [(0, "a"), (100, "b"), (200, "c"), (300, "a"), (400, "d")] {
            h.log(at, POOL, Level::Info, msg, None);
        }
        // d made room by writing out b, the least recently used.
        let messages = |h: &Harness| {
            let out = h.out.iter().map(|i| i.event.message().to_owned());
            out.collect::<Vec<_>>()
        };
        assert_eq!(messages(&h), ["b"]);
        assert_eq!(
            h.agg.next_deadline(),
            Some(h.t0 + Duration::from_millis(1000))
        );
        h.tick(1199);
        assert_eq!(messages(&h), ["b", "a", "a"]);
        assert_eq!(
            h.agg.next_deadline(),
            Some(h.t0 + Duration::from_millis(1200))
        );
        h.tick(1400);
        assert_eq!(messages(&h), ["b", "a", "a", "c", "d"]);
        assert_eq!(h.agg.next_deadline(), None);
    }

    #[test]
    fn invalid_settings_name_themselves() {
        let cases = [
            (
                Aggregator::new([POOL]).threshold(0),
                "aggregation.threshold",
            ),
            (
                Aggregator::new([POOL]).window(Duration::from_secs(11)),
                "aggregation.window_ms",
            ),
            (
                Aggregator::new([POOL]).window(Duration::ZERO),
                "aggregation.window_ms",
            ),
            (
                Aggregator::new([POOL]).max_count(1001),
                "aggregation.max_count",
            ),
            (
                Aggregator::new([POOL]).max_count(5),
                "aggregation.max_count",
            ),
            (Aggregator::new([POOL]).max_keys(0), "aggregation.max_keys"),
            (Aggregator::new([""]), "aggregation.targets"),
        ];
        for (agg, setting) in cases {
            assert_eq!(agg.validate().unwrap_err().setting(), setting);
        }
    }

    #[test]
    fn a_target_no_event_could_have_is_an_error() {
        // A space or a stray colon: nothing would ever be aggregated.
        for bad in [" sqlx", "sqlx::pool ", "sqlx::", "sqlx:pool", "::sqlx"] {
            let err = Aggregator::new([bad]).validate().unwrap_err();
            assert_eq!(err.setting(), "aggregation.targets", "{bad:?}");
        }
        Aggregator::new(["sqlx::pool", "my-app.health"])
            .validate()
            .unwrap();
    }
}
