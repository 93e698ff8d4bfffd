//! The pre-scan that tells which value patterns could match a text: its
//! digits are counted and its `:`, `=` and `b`/`B` noted, eight bytes at a
//! time. Nearly every value is plain text that no pattern matches, and this
//! scan is all it costs.

use crate::swar::{marks_equal, short_word, word_at, HIGHS, ONES};

/// What a text holds that a value pattern starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Triggers {
    /// ASCII digits.
    pub(super) digits: usize,
    /// A `:` (a URL's password, a `"name": value` member).
    pub(super) colon: bool,
    /// A `=` (a `name=value` parameter).
    pub(super) equals: bool,
    /// A `b` or `B` (a bearer token).
    pub(super) b: bool,
}

/// The triggers of `bytes`.
pub(super) fn triggers(bytes: &[u8]) -> Triggers {
    let (mut digits, mut marks) = (0, Marks::default());
    let mut at = 0;
    while at + 8 <= bytes.len() {
        digits += marks.add(word_at(bytes, at));
        at += 8;
    }
    if at < bytes.len() {
        digits += marks.add(tail(bytes, at));
    }
    Triggers {
        digits,
        colon: marks.colon != 0,
        equals: marks.equals != 0,
        b: marks.b != 0,
    }
}

/// The bytes of `bytes` from `at` (fewer than eight), zero-padded: no zero
/// byte is a trigger. In a text of eight bytes or more, one word
/// overlapping those before it, the overlap shifted out.
#[inline]
fn tail(bytes: &[u8], at: usize) -> u64 {
    let len = bytes.len();
    if len >= 8 {
        return word_at(bytes, len - 8) >> (8 * (8 - (len - at)));
    }
    short_word(&bytes[at..])
}

/// The trigger bytes seen so far, each kind marked in the high bits.
#[derive(Default)]
struct Marks {
    colon: u64,
    equals: u64,
    b: u64,
}

impl Marks {
    /// Notes the triggers of `word`; returns how many of its bytes are digits.
    #[inline]
    fn add(&mut self, word: u64) -> usize {
        // Bytes of 0x80 or more are never triggers; their low seven bits
        // could look like one.
        let ascii = !word & HIGHS;
        let low = word & !HIGHS;
        self.colon |= marks_equal(low, b':') & ascii;
        self.equals |= marks_equal(low, b'=') & ascii;
        self.b |= marks_equal(low | (ONES * 0x20), b'b') & ascii;
        let from_0 = low.wrapping_add(ONES * (0x80 - u64::from(b'0')));
        let past_9 = low.wrapping_add(ONES * (0x80 - u64::from(b'9') - 1));
        let digits = from_0 & !past_9 & ascii;
        // One bit per digit byte, summed into the top byte.
        ((digits >> 7).wrapping_mul(ONES) >> 56) as usize
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bytewise(bytes: &[u8]) -> Triggers {
        Triggers {
            digits: bytes.iter().filter(|b| b.is_ascii_digit()).count(),
            colon: bytes.contains(&b':'),
            equals: bytes.contains(&b'='),
            b: bytes.iter().any(|&b| b | 0x20 == b'b'),
        }
    }

    #[test]
    fn every_byte_at_every_position_is_classified_as_bytewise() {
        for len in 1..=17 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert_eq!(
                        triggers(&text),
                        bytewise(&text),
                        "{byte:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_word_of_digits_counts_eight() {
        assert_eq!(triggers(b"4111111111111111").digits, 16);
        assert_eq!(triggers(b"").digits, 0);
    }

    proptest! {
        #[test]
        fn any_text_is_classified_as_bytewise(text in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(triggers(&text), bytewise(&text));
        }
    }
}
