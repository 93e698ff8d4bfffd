//! Bytes eight at a time in a `u64` (SIMD within a register): the word
//! tests the JSON escaper and the redaction pre-scan share.
//!
//! A test works on the low seven bits of every byte (`word & !HIGHS`), so
//! no sum carries into the next byte, and marks a matching byte in its high
//! bit (`HIGHS`).

/// 0x01 in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// 0x80 in every byte.
pub(crate) const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `low` (seven-bit bytes) equal to `c` (below 0x80): a
/// byte XOR `c`, plus 0x7F, stays below 0x80 only when the XOR is zero.
#[inline]
pub(crate) const fn marks_equal(low: u64, c: u8) -> u64 {
    !(low ^ (ONES * c as u64)).wrapping_add(!HIGHS)
}

/// The eight bytes of `bytes` at `at`; `[0; 8]` past the end.
#[inline]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    let chunk = bytes.get(at..at + 8).unwrap_or_default();
    u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]))
}

/// The bytes of `bytes`, fewer than eight, as one word, zero-padded: two
/// overlapping four-byte loads (the overlap shifted out) or three byte
/// loads, as a copy into a buffer costs a library call.
#[inline]
pub(crate) fn short_word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len < 4 {
        let byte = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(0));
        return byte(0) | byte(1) << 8 | byte(2) << 16;
    }
    let half = |from: usize| {
        let chunk = bytes.get(from..from + 4).unwrap_or_default();
        u64::from(u32::from_le_bytes(
            <[u8; 4]>::try_from(chunk).unwrap_or([0; 4]),
        ))
    };
    half(0) | (half(len - 4) >> (8 * (8 - len.min(8)))) << 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_word_holds_exactly_the_bytes() {
        let text = [0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7];
        for len in 0..=7 {
            let mut padded = [0; 8];
            padded[..len].copy_from_slice(&text[..len]);
            assert_eq!(
                short_word(&text[..len]),
                u64::from_le_bytes(padded),
                "{len}"
            );
        }
    }
}
