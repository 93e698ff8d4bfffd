//! The envelope: the writer's view of a raw event, with the fixed keys resolved.
//!
//! Building it costs nothing at the call site: the writer wraps each
//! [`RawEvent`] it pops in an [`Envelope`], and formats read from that.
//! User fields come after the fixed keys; a user field whose key is one of
//! [`RESERVED_KEYS`] is written under `fields` instead of overwriting it, and
//! an event field overrides a context field of the same key.
//!
//! # Example
//!
//! ```
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let mut event = RawEvent::new(Level::Info, "hello");
//! event.push_field("level", "shadowed");
//! event.push_field("user", "ada");
//! let env = Envelope::new(&event);
//! let (reserved, plain): (Vec<_>, Vec<_>) = env.fields().partition(|f| Envelope::is_reserved(f.key()));
//! assert_eq!(reserved[0].key(), "level");
//! assert_eq!(plain[0].key(), "user");
//! ```

use crate::context::CorrelationText;
use crate::event::{CapturedError, RawEvent, SamplingTag, Timestamp};
use crate::level::Level;
use crate::value::Field;

/// `RESERVED_KEYS` and the `matches!` that tests them, from one list.
macro_rules! reserved_keys {
    ($($key:literal),+ $(,)?) => {
        /// The keys fapilog writes itself; user fields with these names go under `fields`.
        pub const RESERVED_KEYS: [&str; [$($key),+].len()] = [$($key),+];

        // One length dispatch instead of a comparison per key: it runs for
        // every field of every event.
        fn is_reserved_key(key: &str) -> bool {
            matches!(key, $($key)|+)
        }
    };
}

reserved_keys![
    "ts",
    "level",
    "msg",
    "seq",
    "target",
    "correlation_id",
    "sampled",
    "sample_rate",
    "promoted",
    "error",
    "fields",
];

/// A read-only view of one event, as formats see it.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    event: &'a RawEvent,
    enrichment: &'a [Field],
}

impl<'a> Envelope<'a> {
    /// The envelope of `event`.
    pub fn new(event: &'a RawEvent) -> Self {
        Envelope {
            event,
            enrichment: &[],
        }
    }

    /// The envelope of `event` with `enrichment` fields (service, host, …)
    /// written before its own; a bound or event field of the same key wins.
    ///
    /// ```
    /// use fapilog_core::{Envelope, Field, Level, RawEvent};
    ///
    /// let host = [Field::new("host.name", "web-1"), Field::new("user", "default")];
    /// let mut event = RawEvent::new(Level::Info, "hi");
    /// event.push_field("user", "ada");
    /// let keys: Vec<_> = Envelope::enriched(&event, &host).fields().map(|f| f.key()).collect();
    /// assert_eq!(keys, ["host.name", "user"]);
    /// ```
    pub fn enriched(event: &'a RawEvent, enrichment: &'a [Field]) -> Self {
        Envelope { event, enrichment }
    }

    /// Whether `key` is one of [`RESERVED_KEYS`].
    pub fn is_reserved(key: &str) -> bool {
        is_reserved_key(key)
    }

    /// `ts`: when the event was captured.
    pub fn timestamp(&self) -> Timestamp {
        self.event.timestamp
    }

    /// `level`.
    pub fn level(&self) -> Level {
        self.event.level
    }

    /// `msg`.
    pub fn message(&self) -> &'a str {
        &self.event.message
    }

    /// `seq`: the pipeline sequence number (absent on records fapilog writes itself).
    pub fn seq(&self) -> Option<u64> {
        self.event.seq()
    }

    /// `target`, when known.
    pub fn target(&self) -> Option<&'static str> {
        self.event.target
    }

    /// `correlation_id`, for events logged inside a request.
    pub fn correlation_id(&self) -> Option<&'a str> {
        self.event.context.as_deref()?.correlation_id()
    }

    /// The correlation ID as stored, for formats that read its bytes.
    pub(crate) fn correlation_text(&self) -> Option<&'a CorrelationText> {
        self.event.context.as_deref()?.correlation_text()
    }

    /// `sampled`, `sample_rate` and `promoted`, for request events.
    pub fn sampling(&self) -> Option<SamplingTag> {
        self.event.sampling
    }

    /// `error`, when one was captured.
    pub fn error(&self) -> Option<&'a CapturedError> {
        self.event.error.as_deref()
    }

    /// The user fields: enrichment first, then the bound context, then the
    /// event's own; a field is left out when a later group sets its key
    /// again, or a later field of the event's own (`info!(log, "m", a = 1, a = 2)`
    /// writes `a` once, as 2).
    pub fn fields(&self) -> impl Iterator<Item = &'a Field> + 'a {
        let own: &'a [Field] = &self.event.fields;
        let bound: &'a [Field] = self.event.context.as_deref().map_or(&[], |c| c.fields());
        let enrichment = self.enrichment;
        enrichment
            .iter()
            .filter(move |e| {
                !own.iter().any(|f| f.key == e.key) && !bound.iter().any(|b| b.key == e.key)
            })
            .chain(
                bound
                    .iter()
                    .filter(move |b| !own.iter().any(|f| f.key == b.key)),
            )
            .chain(
                own.iter()
                    .enumerate()
                    .filter(move |(i, f)| !own[i + 1..].iter().any(|g| g.key == f.key))
                    .map(|(_, f)| f),
            )
    }

    /// Whether any user field has a reserved key (and so goes under `fields`).
    pub fn has_reserved_fields(&self) -> bool {
        self.fields().any(|f| Envelope::is_reserved(f.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use std::sync::Arc;

    /// The envelope's fields as (key, string value) pairs.
    fn string_fields<'a>(env: &Envelope<'a>) -> Vec<(&'a str, &'a str)> {
        env.fields()
            .map(|f| (f.key(), f.value().as_str().unwrap()))
            .collect()
    }

    #[test]
    fn reserved_keys_are_the_listed_ones() {
        for key in RESERVED_KEYS {
            assert!(Envelope::is_reserved(key), "{key}");
        }
        for key in [
            "",
            "t",
            "TS",
            "level ",
            "msgs",
            "field",
            "error.type",
            "sample",
        ] {
            assert!(!Envelope::is_reserved(key), "{key}");
        }
    }

    #[test]
    fn event_fields_override_bound_ones() {
        let ctx = Context::new()
            .with_field(Field::new("user", "bound"))
            .with_field(Field::new("region", "eu"))
            .with_correlation_id("c-1");
        let mut event = RawEvent::new(Level::Info, "m");
        event.set_context(Arc::new(ctx));
        event.push_field("user", "call");
        let env = Envelope::new(&event);
        assert_eq!(string_fields(&env), [("region", "eu"), ("user", "call")]);
        assert_eq!(env.correlation_id(), Some("c-1"));
        assert!(!env.has_reserved_fields());
    }

    #[test]
    fn a_key_set_twice_in_one_event_is_written_once_as_the_last() {
        let mut event = RawEvent::new(Level::Info, "m");
        event.push_field("a", "first");
        event.push_field("b", "kept");
        event.push_field("a", "last");
        let env = Envelope::new(&event);
        assert_eq!(string_fields(&env), [("b", "kept"), ("a", "last")]);
    }
}
