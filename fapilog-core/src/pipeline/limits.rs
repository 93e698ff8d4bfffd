//! Size limits applied to an event when it is captured, before it is queued or held.

use std::borrow::Cow;

use crate::event::RawEvent;
use crate::format::{cut_with_marker, MAX_NESTING, TOO_DEEP};
use crate::value::{Field, Key, Value, INLINE_CAPACITY};

/// Default limit on one string of an event at capture: 64 KiB.
pub const DEFAULT_MAX_CAPTURE_BYTES: usize = 64 * 1024;
/// Default limit on the number of fields of one event: 256.
pub const DEFAULT_MAX_FIELDS: usize = 256;
/// The key of the field that says how many fields were cut.
pub const FIELDS_TRUNCATED_KEY: &str = "fields_truncated";

/// What one event may hold when it is captured: a memory bound for the queue
/// and the request buffers, whatever a caller passes.
///
/// A string the call copied (the message, a key, a string value, the
/// error's message and chain) longer than `max_string_bytes` is cut at a
/// character boundary and ends in `…[truncated N bytes]`; the formats keep
/// that count when they cut further. `&'static str` text is the program's
/// own and is left to the formats. Fields beyond `max_fields` are dropped and replaced by one field,
/// `fields_truncated`, holding how many were dropped.
///
/// Lists and maps are bounded the same way, at every depth: their strings
/// and keys are cut, and all of an event's lists and maps together hold at
/// most `max_fields` elements. A list that lost elements ends in the string
/// `…[truncated N items]`, a map in a `fields_truncated` field; a list or map
/// nested deeper than the formats write is replaced by `…[too deep]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventLimits {
    pub(crate) max_string_bytes: usize,
    pub(crate) max_fields: usize,
}

impl Default for EventLimits {
    fn default() -> Self {
        EventLimits {
            max_string_bytes: DEFAULT_MAX_CAPTURE_BYTES,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

impl EventLimits {
    /// Applies the limits to `event`; costs a few comparisons when it holds
    /// no long copied text, no captured error and no list or map.
    #[inline]
    pub(crate) fn apply(&self, event: &mut RawEvent) {
        if self.may_exceed(event) {
            self.enforce(event);
        }
    }

    /// Whether `event` may be over a limit. Only what the call copied can be
    /// long: an owned message, key or string value (inline strings hold at
    /// most [`INLINE_CAPACITY`] bytes; `&'static str` is program text), or a
    /// captured error, which [`enforce`](Self::enforce) checks in full.
    #[inline]
    fn may_exceed(&self, event: &RawEvent) -> bool {
        let max = self.max_string_bytes;
        max < INLINE_CAPACITY
            || matches!(&event.message, Cow::Owned(m) if m.len() > max)
            || event.fields.len() > self.max_fields
            || event.error.is_some()
            || event.fields.iter().any(|f| {
                f.key.owned_len() > max
                    || match &f.value {
                        Value::Owned(s) => s.len() > max,
                        Value::Seq(_) | Value::Map(_) => true,
                        _ => false,
                    }
            })
    }

    /// Cuts what is over the limits; see the type's documentation.
    #[cold]
    #[inline(never)]
    fn enforce(&self, event: &mut RawEvent) {
        let max = self.max_string_bytes;
        if matches!(&event.message, Cow::Owned(m) if m.len() > max) {
            event.message = Cow::Owned(cut_with_marker(&event.message, max));
        }
        let dropped = event.fields.len().saturating_sub(self.max_fields);
        if dropped > 0 {
            event.fields.truncate(self.max_fields);
        }
        let mut nested = Nested {
            max,
            budget: self.max_fields,
        };
        for field in event.fields.iter_mut() {
            nested.field(field, 0);
        }
        if dropped > 0 {
            event
                .fields
                .push(Field::new(FIELDS_TRUNCATED_KEY, dropped as u64));
        }
        if let Some(error) = event.error.as_deref_mut() {
            for part in std::iter::once(&mut error.message).chain(error.chain.iter_mut()) {
                if part.len() > max {
                    *part = cut_with_marker(part, max);
                }
            }
        }
    }
}

/// Cuts the strings of one field or value, and spends the event's element
/// budget on its lists and maps: a list takes what it keeps before the
/// lists it holds take theirs.
struct Nested {
    max: usize,
    budget: usize,
}

impl Nested {
    fn field(&mut self, field: &mut Field, depth: usize) {
        if field.key.owned_len() > self.max {
            field.key = Key::from(cut_with_marker(field.key(), self.max));
        }
        self.value(&mut field.value, depth);
    }

    fn value(&mut self, value: &mut Value, depth: usize) {
        match value {
            Value::Seq(_) | Value::Map(_) if depth >= MAX_NESTING => {
                *value = Value::Static(TOO_DEEP);
            }
            Value::Seq(items) => {
                let kept = self.keep(items, |cut| {
                    Value::Owned(format!("…[truncated {cut} items]").into_boxed_str())
                });
                for item in &mut items[..kept] {
                    self.value(item, depth + 1);
                }
            }
            Value::Map(fields) => {
                let kept = self.keep(fields, |cut| Field::new(FIELDS_TRUNCATED_KEY, cut as u64));
                for field in &mut fields[..kept] {
                    self.field(field, depth + 1);
                }
            }
            Value::Static(_) => {}
            _ => {
                if let Some(s) = value.as_str().filter(|s| s.len() > self.max) {
                    *value = Value::Owned(cut_with_marker(s, self.max).into_boxed_str());
                }
            }
        }
    }

    /// Keeps what the budget allows of `items`, ending them in `marker(cut)`
    /// when some were cut; returns how many of them are kept.
    fn keep<T>(&mut self, items: &mut Box<[T]>, marker: impl FnOnce(usize) -> T) -> usize {
        let kept = items.len().min(self.budget);
        self.budget -= kept;
        let cut = items.len() - kept;
        if cut > 0 {
            let mut list = std::mem::take(items).into_vec();
            list.truncate(kept);
            list.push(marker(cut));
            *items = list.into_boxed_slice();
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CapturedError;
    use crate::level::Level;

    const LIMITS: EventLimits = EventLimits {
        max_string_bytes: 8,
        max_fields: 3,
    };

    #[test]
    fn events_within_the_limits_are_untouched() {
        let mut event = RawEvent::new(Level::Info, "12345678");
        event.push_field("k", "abcdefgh");
        let before = format!("{event:?}");
        LIMITS.apply(&mut event);
        assert_eq!(format!("{event:?}"), before);
    }

    #[test]
    fn long_strings_are_cut_with_a_marker_and_a_count() {
        let mut event = RawEvent::new(Level::Info, String::from("0123456789abc"));
        event.push_field(String::from("a-very-long-key"), "é".repeat(10));
        event.set_error(CapturedError::from_parts(
            "E",
            "x".repeat(20),
            vec!["y".repeat(9)],
        ));
        LIMITS.apply(&mut event);
        assert_eq!(event.message(), "01234567…[truncated 5 bytes]");
        assert_eq!(event.fields()[0].key(), "a-very-l…[truncated 7 bytes]");
        assert_eq!(
            event.fields()[0].value().as_str(),
            Some("éééé…[truncated 12 bytes]")
        );
        let error = event.error().unwrap();
        assert_eq!(error.message(), "xxxxxxxx…[truncated 12 bytes]");
        assert_eq!(error.chain()[0], "yyyyyyyy…[truncated 1 bytes]");
    }

    #[test]
    fn static_text_is_left_to_the_formats() {
        // The error makes the event go through the cutting; its own text is cut.
        let mut event = RawEvent::new(Level::Info, "request completed");
        event.push_field("a-very-long-key", Value::from_static("a static value"));
        event.set_error(CapturedError::from_parts("E", "x".repeat(20), vec![]));
        LIMITS.apply(&mut event);
        assert_eq!(event.message(), "request completed");
        assert_eq!(event.fields()[0].key(), "a-very-long-key");
        assert_eq!(event.fields()[0].value().as_str(), Some("a static value"));
        assert_eq!(
            event.error().unwrap().message(),
            "xxxxxxxx…[truncated 12 bytes]"
        );
    }

    #[test]
    fn extra_fields_are_dropped_and_counted() {
        let mut event = RawEvent::new(Level::Info, "m");
        for n in 0..10u64 {
            event.push_field("n", n);
        }
        LIMITS.apply(&mut event);
        let got: Vec<_> = event
            .fields()
            .iter()
            .map(|f| (f.key().to_owned(), f.value().as_u64()))
            .collect();
        assert_eq!(
            got,
            [
                ("n".to_owned(), Some(0)),
                ("n".to_owned(), Some(1)),
                ("n".to_owned(), Some(2)),
                (FIELDS_TRUNCATED_KEY.to_owned(), Some(7)),
            ]
        );
    }

    fn list(items: Vec<Value>) -> Value {
        Value::Seq(items.into_boxed_slice())
    }

    #[test]
    fn lists_and_maps_are_cut_at_every_depth_within_one_budget() {
        let mut event = RawEvent::new(Level::Info, "m");
        let long = Value::from("x".repeat(20));
        let inner = list(vec![Value::from("y".repeat(9)), Value::U64(2)]);
        event.push_field(
            "list",
            list(vec![long, inner, Value::U64(3), Value::U64(4)]),
        );
        event.push_field(
            "map",
            Value::Map(Box::new([Field::new("k", 1u64), Field::new("j", 2u64)])),
        );
        LIMITS.apply(&mut event);
        // Three elements in all, taken by the outer list before the lists
        // it holds: none left for the inner list or the map.
        assert_eq!(
            event.fields()[0].value(),
            &list(vec![
                Value::from("xxxxxxxx…[truncated 12 bytes]"),
                list(vec![Value::from("…[truncated 2 items]")]),
                Value::U64(3),
                Value::from("…[truncated 1 items]"),
            ])
        );
        assert_eq!(
            event.fields()[1].value(),
            &Value::Map(Box::new([Field::new(FIELDS_TRUNCATED_KEY, 2u64)]))
        );
    }

    #[test]
    fn lists_nested_deeper_than_the_formats_write_are_replaced() {
        let mut deep = Value::U64(1);
        for _ in 0..MAX_NESTING + 2 {
            deep = list(vec![deep]);
        }
        let mut event = RawEvent::new(Level::Info, "m");
        event.push_field("deep", deep);
        let limits = EventLimits {
            max_string_bytes: 64,
            max_fields: 1000,
        };
        limits.apply(&mut event);
        let mut value = event.fields()[0].value();
        let mut depth = 0;
        while let Value::Seq(items) = value {
            value = &items[0];
            depth += 1;
        }
        assert_eq!((depth, value), (MAX_NESTING, &Value::Static(TOO_DEEP)));
    }
}
