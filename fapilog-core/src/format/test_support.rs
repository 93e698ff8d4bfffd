//! Fixtures shared by the text formats' unit tests.

use std::num::NonZeroU64;
use std::sync::Arc;

use super::Format;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::event::{RawEvent, SamplingTag, Timestamp};
use crate::level::Level;

/// The one line `format` writes for `event`.
pub(super) fn encode_line(format: &mut impl Format, event: &RawEvent) -> String {
    let mut out = Vec::new();
    format.encode(&Envelope::new(event), &mut out);
    String::from_utf8(out).unwrap()
}

/// An event with every envelope key set: timestamp 2026-11-22T13:05:00.123456Z,
/// seq 7, target `billing::pay`, correlation ID `c-1`, sampled at 0.1 and promoted.
pub(super) fn billing_event(level: Level, message: &'static str) -> RawEvent {
    let mut event = RawEvent::new(level, message);
    event.timestamp = Timestamp::from_unix_nanos(1_795_352_700_123_456_000);
    event.seq = NonZeroU64::new(7);
    event.set_target("billing::pay");
    event.set_context(Arc::new(Context::new().with_correlation_id("c-1")));
    event.set_sampling(SamplingTag {
        sampled: true,
        sample_rate: 0.1,
        promoted: true,
    });
    event
}
