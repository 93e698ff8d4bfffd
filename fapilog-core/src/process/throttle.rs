//! Throttling: a token bucket per key.
//!
//! Each key (target and level by default, or the value of a field, see
//! [`ThrottleKey`]) has a bucket of `burst` tokens refilled at `refill_per_s`
//! tokens a second. An event takes a token; with none left it is suppressed
//! and counted as `dropped.throttled`. The first event suppressed for a key
//! writes one WARN record, `"events throttled"`, naming the key
//! (`throttle_key`), `burst` and `refill_per_s`. The first event let through
//! again is preceded by one INFO record, `"throttling ended"`, with
//! `throttle_key`, `suppressed` (how many were suppressed) and
//! `reason: "recovered"`. A key still suppressing at shutdown, or pushed out
//! of the bounded key table, writes the same record with `reason: "shutdown"`
//! or `"evicted"`, so every suppressed event is reported.
//!
//! ERROR and above are never throttled unless
//! [`include_errors`](Throttle::include_errors) is set. These records are
//! fapilog's own (`target: "fapilog"`), counted in `throttle_records`.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), fapilog_core::ConfigError> {
//! use fapilog_core::format::JsonFormat;
//! use fapilog_core::process::Throttle;
//! use fapilog_core::sink::MemorySink;
//! use fapilog_core::{warn, Pipeline};
//!
//! let sink = MemorySink::new();
//! let (pipeline, guard) = Pipeline::builder()
//!     .sink(sink.clone(), JsonFormat::new())
//!     .throttle(Throttle::new(3, 0.001))
//!     .build()?;
//! let log = pipeline.logger();
//! for _ in 0..10 {
//!     warn!(log, "disk almost full");
//! }
//! let report = guard.shutdown(std::time::Duration::from_secs(5));
//! assert_eq!((report.written, report.metrics.dropped.throttled), (3, 7));
//! let lines = sink.lines();
//! assert!(lines[3].contains(r#""msg":"events throttled""#));
//! assert!(lines[4].contains(r#""suppressed":7,"reason":"shutdown""#));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use crate::error::ConfigError;
use crate::event::RawEvent;
use crate::level::Level;
use crate::process::recency::Recency;
use crate::process::{Discard, Emit, Processor};
use crate::value::Value;

/// Default bucket size.
pub const DEFAULT_THROTTLE_BURST: u32 = 100;
/// Default refill rate, tokens a second.
pub const DEFAULT_THROTTLE_REFILL: f64 = 10.0;
/// Default number of keys tracked at once.
pub const DEFAULT_THROTTLE_KEYS: usize = 1000;
const MAX_KEYS: usize = 1_000_000;
pub(crate) const MAX_BURST: u32 = 1_000_000;

/// What a throttle bucket is per.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ThrottleKey {
    /// One bucket per target and level (`throttle_key: "my_app::db/WARN"`). The default.
    #[default]
    TargetLevel,
    /// One bucket per value of this field (`throttle_key: "user_id=42"`);
    /// events without the field use their target and level.
    Field(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BucketKey {
    TargetLevel(Option<&'static str>, Level),
    Field(Box<str>),
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_refill: Instant,
    suppressed: u64,
    /// The key's place in [`Throttle::recency`].
    slot: usize,
}

/// Suppresses bursts per key with a token bucket.
pub struct Throttle {
    burst: u32,
    refill_per_s: f64,
    key: ThrottleKey,
    include_errors: bool,
    max_keys: usize,
    buckets: HashMap<BucketKey, Bucket>,
    recency: Recency<BucketKey>,
}

impl Throttle {
    /// `burst` tokens per key, refilled at `refill_per_s` a second; keyed by
    /// target and level; ERROR and above untouched; [`DEFAULT_THROTTLE_KEYS`] keys.
    pub fn new(burst: u32, refill_per_s: f64) -> Self {
        Throttle {
            burst,
            refill_per_s,
            key: ThrottleKey::TargetLevel,
            include_errors: false,
            max_keys: DEFAULT_THROTTLE_KEYS,
            buckets: HashMap::new(),
            recency: Recency::new(),
        }
    }

    /// What a bucket is per. Default: [`ThrottleKey::TargetLevel`].
    #[must_use]
    pub fn key(mut self, key: ThrottleKey) -> Self {
        self.key = key;
        self
    }

    /// Throttle ERROR and above too. Default: false.
    #[must_use]
    pub fn include_errors(mut self, on: bool) -> Self {
        self.include_errors = on;
        self
    }

    /// Most keys tracked; the least recently used is forgotten to make room.
    /// Default: [`DEFAULT_THROTTLE_KEYS`]; 1..=1,000,000.
    #[must_use]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Checks every setting, naming the one at fault.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `throttling.<setting>`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_BURST).contains(&self.burst) {
            return Err(ConfigError::invalid(
                "throttling.burst",
                self.burst,
                format!("must be between 1 and {MAX_BURST}"),
            ));
        }
        if !(self.refill_per_s.is_finite() && self.refill_per_s > 0.0) {
            return Err(ConfigError::invalid(
                "throttling.refill_per_s",
                self.refill_per_s,
                "must be a finite number of tokens a second, more than 0",
            ));
        }
        if let ThrottleKey::Field(name) = &self.key {
            if name.is_empty() {
                return Err(ConfigError::invalid(
                    "throttling.key",
                    "\"field:\"",
                    "must be \"target_level\" or \"field:<name>\" with a non-empty name",
                ));
            }
        }
        if !(1..=MAX_KEYS).contains(&self.max_keys) {
            return Err(ConfigError::invalid(
                "throttling.max_keys",
                self.max_keys,
                format!("must be between 1 and {MAX_KEYS}"),
            ));
        }
        Ok(())
    }

    /// How many keys are tracked now.
    pub fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn key_of(&self, event: &RawEvent) -> BucketKey {
        if let ThrottleKey::Field(name) = &self.key {
            let own = event.fields.iter().rev().find(|f| f.key() == name.as_str());
            let bound = || {
                event
                    .context
                    .as_deref()?
                    .fields()
                    .iter()
                    .find(|f| f.key() == name.as_str())
            };
            if let Some(field) = own.or_else(bound) {
                return BucketKey::Field(format!("{name}={}", display(field.value())).into());
            }
        }
        BucketKey::TargetLevel(event.target, event.level)
    }

    /// The key's bucket, marked as the most recently used; a new key first
    /// makes room if the table is full.
    fn bucket(&mut self, key: &BucketKey, now: Instant, out: &mut Emit<'_>) -> &mut Bucket {
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_keys {
            self.make_room(out);
        }
        let (burst, recency) = (self.burst, &mut self.recency);
        let bucket = self.buckets.entry(key.clone()).or_insert_with(|| Bucket {
            tokens: f64::from(burst),
            last_refill: now,
            suppressed: 0,
            slot: recency.push(key.clone()),
        });
        recency.touch(bucket.slot);
        bucket
    }

    fn make_room(&mut self, out: &mut Emit<'_>) {
        let Some(key) = self.recency.oldest().cloned() else {
            return;
        };
        if let Some(bucket) = self.buckets.remove(&key) {
            self.recency.remove(bucket.slot);
            if bucket.suppressed > 0 {
                out.notice(ended(&key, bucket.suppressed, "evicted"));
            }
        }
    }
}

/// The INFO record that ends a key's suppression.
fn ended(key: &BucketKey, suppressed: u64, reason: &'static str) -> RawEvent {
    let mut notice = RawEvent::new(Level::Info, "throttling ended");
    notice.set_target("fapilog");
    notice.push_field("throttle_key", key_text(key));
    notice.push_field("suppressed", suppressed);
    notice.push_field("reason", reason);
    notice
}

fn key_text(key: &BucketKey) -> String {
    match key {
        BucketKey::TargetLevel(target, level) => format!("{}/{}", target.unwrap_or("-"), level),
        BucketKey::Field(text) => text.to_string(),
    }
}

fn display(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_owned(),
        None => format!("{value:?}"),
    }
}

impl Processor for Throttle {
    fn process(&mut self, event: RawEvent, now: Instant, out: &mut Emit<'_>) {
        if event.level.is_protected() && !self.include_errors {
            out.pass(event);
            return;
        }
        let key = self.key_of(&event);
        let (burst, refill_per_s) = (self.burst, self.refill_per_s);
        let bucket = self.bucket(&key, now, out);
        let elapsed = now.saturating_duration_since(bucket.last_refill);
        bucket.tokens =
            (bucket.tokens + elapsed.as_secs_f64() * refill_per_s).min(f64::from(burst));
        bucket.last_refill = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            let suppressed = std::mem::take(&mut bucket.suppressed);
            if suppressed > 0 {
                out.notice(ended(&key, suppressed, "recovered"));
            }
            out.pass(event);
        } else {
            bucket.suppressed += 1;
            let first = bucket.suppressed == 1;
            out.discard_as(event, Discard::Throttled);
            if first {
                let mut notice = RawEvent::new(Level::Warn, "events throttled");
                notice.set_target("fapilog");
                notice.push_field("throttle_key", key_text(&key));
                notice.push_field("burst", burst);
                notice.push_field("refill_per_s", refill_per_s);
                out.notice(notice);
            }
        }
    }

    fn shutdown(&mut self, out: &mut Emit<'_>) {
        for key in self.recency.oldest_first() {
            if let Some(bucket) = self.buckets.get_mut(key) {
                let suppressed = std::mem::take(&mut bucket.suppressed);
                if suppressed > 0 {
                    out.notice(ended(key, suppressed, "shutdown"));
                }
            }
        }
    }

    fn name(&self) -> &str {
        "throttle"
    }
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("burst", &self.burst)
            .field("refill_per_s", &self.refill_per_s)
            .field("key", &self.key)
            .field("include_errors", &self.include_errors)
            .field("max_keys", &self.max_keys)
            .field("keys", &self.buckets.len())
            .finish()
    }
}

/// One second, for readable tests.
#[cfg(test)]
const SECOND: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Item, ItemKind, Tally};
    use crate::value::Field;

    struct Harness {
        throttle: Throttle,
        t0: Instant,
        out: Vec<Item>,
        tally: Tally,
    }

    impl Harness {
        fn new(throttle: Throttle) -> Self {
            throttle.validate().unwrap();
            Harness {
                throttle,
                t0: Instant::now(),
                out: Vec::new(),
                tally: Tally::default(),
            }
        }

        fn log(&mut self, at: Duration, level: Level, user: Option<u64>) {
            let mut e = RawEvent::new(level, "m");
            e.set_target("app");
            if let Some(u) = user {
                e.push_field("user_id", u);
            }
            let mut emit = Emit::new(&mut self.out, &mut self.tally);
            self.throttle.process(e, self.t0 + at, &mut emit);
        }

        fn shutdown(&mut self) {
            let mut emit = Emit::new(&mut self.out, &mut self.tally);
            self.throttle.shutdown(&mut emit);
        }

        /// (kind, message, suppressed) of each output.
        fn seen(&self) -> Vec<(ItemKind, String, Option<u64>)> {
            self.out
                .iter()
                .map(|i| {
                    let suppressed = i
                        .event
                        .fields()
                        .iter()
                        .find(|f| f.key() == "suppressed")
                        .and_then(|f| f.value().as_u64());
                    (i.kind, i.event.message().to_owned(), suppressed)
                })
                .collect()
        }

        /// (kind, message, throttle_key, suppressed) of each output.
        fn keyed(&self) -> Vec<(ItemKind, String, Option<String>, Option<u64>)> {
            self.out
                .iter()
                .map(|i| {
                    let fields = i.event.fields();
                    let field = |name| fields.iter().find(|f| f.key() == name).map(Field::value);
                    let key = field("throttle_key").and_then(Value::as_str);
                    let suppressed = field("suppressed").and_then(Value::as_u64);
                    let message = i.event.message().to_owned();
                    (i.kind, message, key.map(str::to_owned), suppressed)
                })
                .collect()
        }
    }

    fn ev() -> (ItemKind, String, Option<u64>) {
        (ItemKind::Event, "m".into(), None)
    }

    #[test]
    fn burst_then_one_warning_then_one_recovery_record() {
        let mut h = Harness::new(Throttle::new(2, 1.0));
        for _ in 0..5 {
            h.log(Duration::ZERO, Level::Info, None);
        }
        let warn = (ItemKind::Notice, "events throttled".to_owned(), None);
        assert_eq!(h.seen(), [ev(), ev(), warn.clone()]);
        assert_eq!(h.tally.throttled, 3);
        let key = h.out[2].event.fields()[0]
            .value()
            .as_str()
            .map(str::to_owned);
        assert_eq!(key.as_deref(), Some("app/INFO"));
        // Half a token: still suppressed, no second warning.
        h.log(SECOND / 2, Level::Info, None);
        assert_eq!(h.out.len(), 3);
        // A whole token: recovery record with the count, then the event.
        h.log(SECOND, Level::Info, None);
        let ended = (ItemKind::Notice, "throttling ended".to_owned(), Some(4));
        assert_eq!(h.seen(), [ev(), ev(), warn, ended, ev()]);
        assert_eq!(
            h.out[3].event.fields()[2].value().as_str(),
            Some("recovered")
        );
        h.shutdown();
        assert_eq!(h.out.len(), 5, "nothing pending");
    }

    #[test]
    fn errors_pass_unless_included() {
        let mut h = Harness::new(Throttle::new(1, 1.0));
        for _ in 0..3 {
            h.log(Duration::ZERO, Level::Error, None);
        }
        assert_eq!(h.tally.throttled, 0);
        let mut h = Harness::new(Throttle::new(1, 1.0).include_errors(true));
        for _ in 0..3 {
            h.log(Duration::ZERO, Level::Error, None);
        }
        assert_eq!(h.tally.throttled, 2);
    }

    #[test]
    fn field_keys_and_shutdown_report() {
        let mut h = Harness::new(Throttle::new(1, 0.001).key(ThrottleKey::Field("user_id".into())));
        for user in [1, 1, 2, 2, 2] {
            h.log(Duration::ZERO, Level::Info, Some(user));
        }
        h.log(Duration::ZERO, Level::Info, None); // no field: keyed by target and level
        assert_eq!(h.tally.throttled, 3);
        h.shutdown();
        let ended: Vec<_> = h
            .out
            .iter()
            .filter(|i| i.event.message() == "throttling ended")
            .map(|i| {
                let f = i.event.fields();
                (
                    f[0].value().as_str().unwrap().to_owned(),
                    f[1].value().as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ended,
            [("user_id=1".to_owned(), 1), ("user_id=2".to_owned(), 2)]
        );
    }

    #[test]
    fn a_full_key_table_reports_the_evicted_key() {
        let mut h = Harness::new(
            Throttle::new(1, 0.001)
                .max_keys(1)
                .key(ThrottleKey::Field("user_id".into())),
        );
        h.log(Duration::ZERO, Level::Info, Some(1));
        h.log(Duration::ZERO, Level::Info, Some(1));
        h.log(Duration::ZERO, Level::Info, Some(2));
        assert_eq!(h.throttle.keys(), 1);
        let last = h.seen();
        assert_eq!(
            last[2],
            (ItemKind::Notice, "throttling ended".to_owned(), Some(1))
        );
        assert_eq!(h.out[2].event.fields()[2].value().as_str(), Some("evicted"));
    }

    #[test]
    fn eviction_follows_use_like_a_reference_lru() {
        let mut h = Harness::new(
            Throttle::new(1, 0.001)
                .max_keys(16)
                .key(ThrottleKey::Field("user_id".into())),
        );
        // Least recently used first: (user, suppressed). Time stands still,
        // so a key's first event passes and the others are suppressed.
        let mut model: Vec<(u64, u64)> = Vec::new();
        let mut expected = Vec::new();
        let mut state = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            let user = crate::process::xorshift(&mut state) % 24;
            h.log(Duration::ZERO, Level::Info, Some(user));
            if let Some(i) = model.iter().position(|(u, _)| *u == user) {
                let (_, suppressed) = model.remove(i);
                if suppressed == 0 {
                    let key = Some(format!("user_id={user}"));
                    expected.push((ItemKind::Notice, "events throttled".into(), key, None));
                }
                model.push((user, suppressed + 1));
                continue;
            }
            if model.len() == 16 {
                let (old, suppressed) = model.remove(0);
                if suppressed > 0 {
                    let key = Some(format!("user_id={old}"));
                    let ended = "throttling ended".into();
                    expected.push((ItemKind::Notice, ended, key, Some(suppressed)));
                }
            }
            model.push((user, 0));
            expected.push((ItemKind::Event, "m".into(), None, None));
        }
        assert_eq!(h.keyed(), expected);
    }

    #[test]
    fn invalid_settings_name_themselves() {
        let cases = [
            (Throttle::new(0, 1.0), "throttling.burst"),
            (Throttle::new(1, 0.0), "throttling.refill_per_s"),
            (Throttle::new(1, f64::NAN), "throttling.refill_per_s"),
            (Throttle::new(1, 1.0).max_keys(0), "throttling.max_keys"),
            (
                Throttle::new(1, 1.0).key(ThrottleKey::Field(String::new())),
                "throttling.key",
            ),
        ];
        for (t, setting) in cases {
            assert_eq!(t.validate().unwrap_err().setting(), setting);
        }
    }
}
