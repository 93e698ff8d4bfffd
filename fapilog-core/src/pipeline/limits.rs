//! Size limits applied to an event when it is captured, before it is queued or held.

use std::borrow::Cow;

use crate::event::{Fields, Message, RawEvent};
use crate::format::cut_with_marker;
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
    /// Applies the limits to `event`; costs a few comparisons when it is within them.
    #[inline]
    pub(crate) fn apply(&self, event: &mut RawEvent) {
        if self.may_exceed(&event.message, &event.fields, event.error.is_some()) {
            self.enforce(event);
        }
    }

    /// Whether an event of these parts may be over a limit. Only what the
    /// call copied can be long: an owned message, key or string value (inline
    /// strings hold at most [`INLINE_CAPACITY`] bytes; `&'static str` is
    /// program text), or a captured error, which [`enforce`](Self::enforce)
    /// checks in full.
    #[inline]
    pub(crate) fn may_exceed(&self, message: &Message, fields: &Fields, error: bool) -> bool {
        let max = self.max_string_bytes;
        max < INLINE_CAPACITY
            || matches!(message, Cow::Owned(m) if m.len() > max)
            || fields.len() > self.max_fields
            || error
            || fields.iter().any(|f| {
                f.key.owned_len() > max || matches!(&f.value, Value::Owned(s) if s.len() > max)
            })
    }

    /// Cuts what is over the limits; see the type's documentation.
    #[cold]
    #[inline(never)]
    fn enforce(&self, event: &mut RawEvent) {
        let max = self.max_string_bytes;
        if event.message.len() > max {
            event.message = Cow::Owned(cut_with_marker(&event.message, max));
        }
        let dropped = event.fields.len().saturating_sub(self.max_fields);
        if dropped > 0 {
            event.fields.truncate(self.max_fields);
        }
        for field in event.fields.iter_mut() {
            if field.key().len() > max {
                field.key = Key::from(cut_with_marker(field.key(), max));
            }
            if let Some(s) = field.value.as_str().filter(|s| s.len() > max) {
                field.value = Value::Owned(cut_with_marker(s, max).into_boxed_str());
            }
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
        event.push_field("a-very-long-key", "é".repeat(10));
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
}
