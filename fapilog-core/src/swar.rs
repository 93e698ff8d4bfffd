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
