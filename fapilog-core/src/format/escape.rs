//! The one escaping layer every encoder goes through: JSON string bodies, truncation, bare-value checks.
//!
//! A *dangerous* character is one that must never reach the output raw,
//! because it could forge a line, hide text or move a terminal's cursor:
//! every C0 control (U+0000–U+001F, so CR, LF and TAB too), DEL (U+007F),
//! the C1 controls (U+0080–U+009F), the line and paragraph separators
//! (U+2028, U+2029) and the bidi controls (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069).
//!
//! [`write_json_body`] writes a string as the body of a JSON string literal:
//! `"` and `\` are backslash-escaped, `\n \r \t \b \f` use their short forms,
//! every other dangerous character becomes `\uXXXX`, and everything else is
//! copied as raw UTF-8. Clean runs are copied with one `extend_from_slice`.
//!
//! # Example
//!
//! ```
//! // This module is crate-internal; its behaviour shows through every format.
//! use fapilog_core::format::{Format, LogfmtFormat};
//! use fapilog_core::{Envelope, Level, RawEvent};
//!
//! let event = RawEvent::new(Level::Info, "a\u{202E}b");
//! let mut out = Vec::new();
//! LogfmtFormat::new().encode(&Envelope::new(&event), &mut out);
//! assert!(String::from_utf8(out).unwrap().contains(r#"msg="a\u202eb""#));
//! ```

use crate::swar::{marks_equal, short_word, word_at, HIGHS, ONES};

/// Byte needs no attention.
const CLEAN: u8 = 0;
/// Byte is always escaped: C0 control, DEL or `\`.
const ESCAPE: u8 = 1;
/// Byte is `"`: escaped inside quoted strings only.
const QUOTE: u8 = 2;
/// Byte may start a dangerous multi-byte character (0xC2, 0xD8, 0xE2).
const LEAD: u8 = 3;

static CLASS: [u8; 256] = {
    let mut t = [CLEAN; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = ESCAPE;
        i += 1;
    }
    t[0x7F] = ESCAPE;
    t[b'\\' as usize] = ESCAPE;
    t[b'"' as usize] = QUOTE;
    t[0xC2] = LEAD;
    t[0xD8] = LEAD;
    t[0xE2] = LEAD;
    t
};

/// Whether `c` must never appear raw in any output.
pub(crate) const fn is_dangerous(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The dangerous multi-byte character starting at `bytes[i]`, as (code point, length).
#[inline]
fn dangerous_at(bytes: &[u8], i: usize) -> Option<(u32, usize)> {
    let b0 = *bytes.get(i)?;
    let b1 = *bytes.get(i + 1)?;
    match b0 {
        // U+0080–U+009F: C2 80 ..= C2 9F
        0xC2 if (0x80..=0x9F).contains(&b1) => Some((u32::from(b1), 2)),
        // U+061C: D8 9C
        0xD8 if b1 == 0x9C => Some((0x061C, 2)),
        0xE2 => {
            let b2 = *bytes.get(i + 2)?;
            let hit = match b1 {
                // U+200E, U+200F, U+2028–U+202E
                0x80 => matches!(b2, 0x8E | 0x8F | 0xA8..=0xAE),
                // U+2066–U+2069
                0x81 => matches!(b2, 0xA6..=0xA9),
                _ => false,
            };
            hit.then(|| {
                let cp = 0x2000 | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
                (cp, 3)
            })
        }
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[inline]
fn write_unicode_escape(out: &mut Vec<u8>, cp: u32) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[((cp >> 12) & 0xF) as usize],
        HEX[((cp >> 8) & 0xF) as usize],
        HEX[((cp >> 4) & 0xF) as usize],
        HEX[(cp & 0xF) as usize],
    ]);
}

#[inline]
fn write_byte_escape(out: &mut Vec<u8>, b: u8) {
    let short: &[u8] = match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0C => b"\\f",
        _ => return write_unicode_escape(out, u32::from(b)),
    };
    out.extend_from_slice(short);
}

/// Whether all 8 bytes of `word` are printable ASCII other than `\` (and `"` when `QUOTED`).
///
/// Each test works on the low seven bits of every byte, so no sum carries
/// into the next byte, and marks a bad byte in its high bit. A test may also
/// mark a byte of 0x80 or more, which is bad anyway.
#[inline]
const fn is_plain_word<const QUOTED: bool>(word: u64) -> bool {
    let low = word & !HIGHS;
    // a byte >= 0x7F: DEL, or part of a multi-byte character
    let high = low.wrapping_add(ONES) | word;
    // a byte < 0x20
    let control = !low.wrapping_add(ONES * 0x60);
    let quote = if QUOTED { marks_equal(low, b'"') } else { 0 };
    (high | control | marks_equal(low, b'\\') | quote) & HIGHS == 0
}

/// Whether every byte of `bytes` is plain (see [`is_plain_word`]). Reads
/// whole words, the last one overlapping the one before, and a short string
/// as one word, so most keys and values cost a few word checks and no
/// byte loop.
#[inline]
fn is_plain<const QUOTED: bool>(bytes: &[u8]) -> bool {
    let len = bytes.len();
    let word = match len {
        0 => return true,
        // The bytes past the string are plain `a`s.
        1..=7 => short_word(bytes) | (ONES * u64::from(b'a')) << (8 * len),
        _ => {
            let mut at = 0;
            while at + 8 < len {
                if !is_plain_word::<QUOTED>(word_at(bytes, at)) {
                    return false;
                }
                at += 8;
            }
            word_at(bytes, len - 8)
        }
    };
    is_plain_word::<QUOTED>(word)
}

/// Escapes UTF-8 `bytes` into `out`; `"` is escaped only when `QUOTED`.
///
/// A string with nothing to escape, the common case, is checked a word at a
/// time and copied whole. Otherwise plain ASCII is skipped eight bytes at a
/// time and clean runs are copied with one `extend_from_slice` each.
#[inline]
fn escape_bytes<const QUOTED: bool>(out: &mut Vec<u8>, bytes: &[u8]) {
    if is_plain::<QUOTED>(bytes) {
        out.extend_from_slice(bytes);
    } else {
        escape_mixed::<QUOTED>(out, bytes);
    }
}

/// [`escape_bytes`] for text with something to escape, or non-ASCII.
#[inline(never)]
fn escape_mixed<const QUOTED: bool>(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        while i + 8 <= bytes.len() && is_plain_word::<QUOTED>(word_at(bytes, i)) {
            i += 8;
        }
        let stop = i + 8;
        while i < stop {
            let Some(&b) = bytes.get(i) else { break };
            match CLASS[b as usize] {
                CLEAN => i += 1,
                QUOTE if !QUOTED => i += 1,
                LEAD => match dangerous_at(bytes, i) {
                    None => i += 1,
                    Some((cp, len)) => {
                        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
                        write_unicode_escape(out, cp);
                        i += len;
                        start = i;
                    }
                },
                _ => {
                    out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
                    write_byte_escape(out, b);
                    i += 1;
                    start = i;
                }
            }
        }
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Writes `s` as the body of a JSON string literal (without the quotes).
#[inline]
pub(crate) fn write_json_body(out: &mut Vec<u8>, s: &str) {
    escape_bytes::<true>(out, s.as_bytes());
}

/// Writes UTF-8 `bytes` (already known to be valid, e.g. encoder output) as a JSON string body.
#[inline]
pub(crate) fn write_json_body_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    escape_bytes::<true>(out, bytes);
}

/// Writes `s` as human-readable text: like [`write_json_body`] but `"` stays raw.
#[inline]
pub(crate) fn write_text(out: &mut Vec<u8>, s: &str) {
    escape_bytes::<false>(out, s.as_bytes());
}

const MARKER_START: &str = "…[truncated ";
const MARKER_END: &str = " bytes]";

/// Splits a trailing truncation marker off `s`: the text before it and the
/// count it holds (0 and `s` itself when there is none).
#[inline]
fn split_marker(s: &str) -> (&str, usize) {
    if !s.ends_with(MARKER_END) {
        return (s, 0);
    }
    let Some(start) = s.rfind(MARKER_START) else {
        return (s, 0);
    };
    let digits = s
        .get(start + MARKER_START.len()..s.len() - MARKER_END.len())
        .unwrap_or_default();
    match digits.parse::<usize>() {
        Ok(n)
            if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') =>
        {
            (s.get(..start).unwrap_or_default(), n)
        }
        _ => (s, 0),
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary; returns the kept
/// part and how many bytes were cut.
///
/// When `s` must be cut and already ends in a truncation marker (it was cut
/// when the event was captured), the marker is dropped and its count added,
/// so the marker written counts the bytes cut from what was logged. A string
/// that fits is never touched, marker or not.
#[inline]
pub(crate) fn truncate(s: &str, max: usize) -> (&str, usize) {
    if s.len() <= max {
        return (s, 0);
    }
    let (body, earlier) = split_marker(s);
    let mut end = max.min(body.len());
    while !body.is_char_boundary(end) {
        end -= 1; // terminates: 0 is always a boundary
    }
    (
        body.get(..end).unwrap_or_default(),
        // The earlier count is read from the text, which a caller may have
        // written: it can be any number.
        (body.len() - end).saturating_add(earlier),
    )
}

/// `s` cut to at most `max` bytes (at a character boundary) followed by the
/// truncation marker, or `s` unchanged when it fits.
pub(crate) fn cut_with_marker(s: &str, max: usize) -> String {
    let (kept, cut) = truncate(s, max);
    if cut == 0 {
        return kept.to_owned();
    }
    let mut out = Vec::with_capacity(kept.len() + 32);
    out.extend_from_slice(kept.as_bytes());
    write_truncation_marker(&mut out, cut);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the truncation marker `…[truncated N bytes]`.
#[inline]
pub(crate) fn write_truncation_marker(out: &mut Vec<u8>, cut: usize) {
    out.extend_from_slice(MARKER_START.as_bytes());
    out.extend_from_slice(itoa::Buffer::new().format(cut).as_bytes());
    out.extend_from_slice(MARKER_END.as_bytes());
}

/// Writes `s` cut to `max` bytes as a quoted JSON string, with the truncation marker inside the quotes when cut.
#[inline]
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str, max: usize) {
    let (kept, cut) = truncate(s, max);
    out.push(b'"');
    write_json_body(out, kept);
    if cut > 0 {
        write_truncation_marker(out, cut);
    }
    out.push(b'"');
}

/// [`write_json_string`] for text held as bytes, valid UTF-8 by construction
/// (an inline string's, a correlation ID's): text within `max` is written
/// without the UTF-8 check that reading it as `&str` costs.
#[inline]
pub(crate) fn write_json_text(out: &mut Vec<u8>, text: &[u8], max: usize) {
    if text.len() > max {
        return write_json_string(out, std::str::from_utf8(text).unwrap_or_default(), max);
    }
    out.push(b'"');
    write_json_body_bytes(out, text);
    out.push(b'"');
}

/// Writes a key as a quoted JSON string (keys are never truncated).
#[inline]
pub(crate) fn write_json_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    write_json_body(out, key);
    out.push(b'"');
}

/// Whether `b` may appear in a bare (unquoted) logfmt key or value: `[A-Za-z0-9_.:/@+-]`.
#[inline]
const fn is_bare_byte(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b':' | b'/' | b'@' | b'+' | b'-')
}

/// Whether `s` can be written bare in logfmt: non-empty and only `[A-Za-z0-9_.:/@+-]`.
#[inline]
pub(crate) fn is_logfmt_bare(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_bare_byte)
}

/// Whether `s` can be written bare in the pretty format: non-empty, no
/// whitespace, no `"`, `\`, `=` and no dangerous character.
#[inline]
pub(crate) fn is_pretty_bare(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '"' | '\\' | '=') && !is_dangerous(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> String {
        let mut out = Vec::new();
        write_json_body(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    /// Every dangerous character, one of each.
    pub(crate) fn all_dangerous() -> Vec<char> {
        (0u32..=0x2069)
            .filter_map(char::from_u32)
            .filter(|&c| is_dangerous(c))
            .collect()
    }

    #[test]
    fn dangerous_set_is_exactly_the_documented_one() {
        let got = all_dangerous();
        assert_eq!(got.len(), 32 + 1 + 32 + 2 + 1 + 2 + 5 + 4);
        for c in [
            '\u{2027}', '\u{202F}', '\u{2065}', '\u{206A}', '\u{200D}', '\u{A0}', 'é',
        ] {
            assert!(!is_dangerous(c), "{c:?}");
        }
    }

    #[test]
    fn short_forms_and_quotes() {
        assert_eq!(body("a\"b\\c"), r#"a\"b\\c"#);
        assert_eq!(body("\n\r\t\u{8}\u{c}"), r"\n\r\t\b\f");
        assert_eq!(body("\u{0}\u{1f}\u{7f}"), r"\u0000\u001f\u007f");
    }

    #[test]
    fn multibyte_dangerous_chars_are_escaped_and_neighbours_are_not() {
        assert_eq!(body("\u{85}\u{9f}\u{a0}"), "\\u0085\\u009f\u{a0}");
        assert_eq!(body("x\u{2028}y\u{2029}z"), r"x\u2028y\u2029z");
        assert_eq!(body("\u{61c}\u{61b}"), "\\u061c\u{61b}");
        assert_eq!(body("\u{200e}\u{200f}\u{200d}"), "\\u200e\\u200f\u{200d}");
        assert_eq!(body("\u{202a}\u{202e}\u{202f}"), "\\u202a\\u202e\u{202f}");
        assert_eq!(body("\u{2066}\u{2069}\u{206a}…"), "\\u2066\\u2069\u{206a}…");
    }

    #[test]
    fn every_dangerous_char_is_escaped_and_parses_back() {
        for c in all_dangerous() {
            let s = format!("a{c}b");
            let out = body(&s);
            assert!(!out.contains(c), "{c:?} raw in {out}");
            let parsed: String = serde_json::from_str(&format!("\"{out}\"")).unwrap();
            assert_eq!(parsed, s);
        }
    }

    #[test]
    fn clean_text_is_copied_unchanged() {
        let s = "héllo wörld — 日本語 🎉 / ok";
        assert_eq!(body(s), s);
        let mut out = Vec::new();
        write_text(&mut out, "say \"hi\"\n");
        assert_eq!(out, br#"say "hi"\n"#);
    }

    #[test]
    fn truncate_cuts_at_char_boundaries() {
        assert_eq!(truncate("hello", 10), ("hello", 0));
        assert_eq!(truncate("hello", 5), ("hello", 0));
        assert_eq!(truncate("hello", 3), ("hel", 2));
        assert_eq!(truncate("héllo", 2), ("h", 5)); // é is 2 bytes
        assert_eq!(truncate("🎉x", 3), ("", 5));
        assert_eq!(truncate("abc", 0), ("", 3));
    }

    #[test]
    fn an_earlier_marker_is_counted_not_repeated() {
        let x = |n: usize| "x".repeat(n);
        let captured = cut_with_marker(&x(100), 40);
        assert_eq!(captured, format!("{}…[truncated 60 bytes]", x(40)));
        // Fits: untouched.
        assert_eq!(truncate(&captured, 100), (captured.as_str(), 0));
        // Cut again: one marker, the total count.
        assert_eq!(truncate(&captured, 10), (x(10).as_str(), 90));
        assert_eq!(truncate(&captured, 45), (x(40).as_str(), 60));
        assert_eq!(
            cut_with_marker(&captured, 10),
            format!("{}…[truncated 90 bytes]", x(10))
        );
        // Not markers: cut as text.
        for s in [
            "ab…[truncated x bytes]",
            "ab…[truncated +1 bytes]",
            "ab…[truncated 01 bytes]",
            "ab…[truncated 0 bytes]",
        ] {
            assert_eq!(truncate(s, 4), ("ab", s.len() - 2), "{s}");
        }
        assert_eq!(cut_with_marker("short", 10), "short");
    }

    #[test]
    fn a_marker_written_by_the_caller_cannot_overflow_the_count() {
        let forged = format!("{}…[truncated {} bytes]", "a".repeat(70), usize::MAX);
        assert_eq!(truncate(&forged, 10), ("aaaaaaaaaa", usize::MAX));
        assert_eq!(
            cut_with_marker(&forged, 10),
            format!("aaaaaaaaaa…[truncated {} bytes]", usize::MAX)
        );
    }

    #[test]
    fn json_string_carries_the_marker() {
        let mut out = Vec::new();
        write_json_string(&mut out, "abcdef", 4);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"abcd…[truncated 2 bytes]\""
        );
    }

    #[test]
    fn plain_word_check_is_exact() {
        let word = |b: &[u8; 8]| u64::from_le_bytes(*b);
        assert!(is_plain_word::<true>(word(b"abcdefgh")));
        assert!(is_plain_word::<true>(word(b" ~!#$%&'")));
        for bad in [0u8, 0x1F, 0x7F, 0x80, 0xC2, 0xE2, 0xFF, b'\\', b'"'] {
            for pos in 0..8 {
                let mut b = *b"abcdefgh";
                b[pos] = bad;
                assert!(!is_plain_word::<true>(word(&b)), "{bad:#x} at {pos}");
                assert_eq!(is_plain_word::<false>(word(&b)), bad == b'"');
            }
        }
        // every single byte value in every position agrees with the table
        for v in 0..=255u8 {
            let plain = CLASS[v as usize] == CLEAN && v < 0x80;
            for pos in 0..8 {
                let mut b = *b"        ";
                b[pos] = v;
                assert_eq!(is_plain_word::<true>(word(&b)), plain, "{v:#x} at {pos}");
            }
        }
    }

    #[test]
    fn plain_string_check_sees_every_byte_at_every_length() {
        let plain_byte = |v: u8| CLASS[v as usize] == CLEAN && v < 0x80;
        for len in 0..=20 {
            assert!(is_plain::<true>(&b"abcdefghijklmnopqrst"[..len]));
            for pos in 0..len {
                for v in 0..=255u8 {
                    let mut s = b"abcdefghijklmnopqrst"[..len].to_vec();
                    s[pos] = v;
                    assert_eq!(
                        is_plain::<true>(&s),
                        plain_byte(v),
                        "{v:#x} at {pos} of {len}"
                    );
                    assert_eq!(is_plain::<false>(&s), plain_byte(v) || v == b'"');
                }
            }
        }
    }

    #[test]
    fn long_mixed_strings_round_trip() {
        let s = "plain ascii run, then é and \u{2028}: \u{2028} and \"quotes\" \n and more plain ascii text 日本語 end";
        let parsed: String = serde_json::from_str(&format!("\"{}\"", body(s))).unwrap();
        assert_eq!(parsed, s);
        assert!(!body(s).contains('\u{2028}'));
    }

    #[test]
    fn bare_checks() {
        assert!(is_logfmt_bare("a-b_c.d:e/f@g+1"));
        assert!(!is_logfmt_bare(""));
        assert!(!is_logfmt_bare("a b"));
        assert!(!is_logfmt_bare("a=b"));
        assert!(!is_logfmt_bare("é"));
        assert!(is_pretty_bare("café"));
        assert!(!is_pretty_bare("a\u{a0}b"));
        assert!(!is_pretty_bare("a\u{200e}"));
        assert!(!is_pretty_bare("x=y"));
    }
}
