//! Typed field values, owned by the event from the moment of the call.
//!
//! A [`Value`] never borrows from the caller: static strings are kept as
//! `&'static str`, short strings (up to [`INLINE_CAPACITY`] bytes) are copied
//! inline without allocating, longer ones are copied to the heap. `Display`
//! and `Debug` captures are rendered at the call for the same reason: the
//! caller's data may change or be dropped before the writer runs.
//!
//! # Example
//!
//! ```
//! use fapilog_core::{Field, Value};
//!
//! let user = String::from("ada");
//! let f = Field::new("user", Value::from(user.as_str()));
//! drop(user); // the field owns its copy
//! assert_eq!(f.value().as_str(), Some("ada"));
//! assert_eq!(Value::from(42u64).as_u64(), Some(42));
//! assert_eq!(Value::display(&1.5f64).as_str(), Some("1.5"));
//! ```

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// How many bytes a string may have and still be stored without a heap allocation.
pub const INLINE_CAPACITY: usize = 22;

/// A field name: static when it comes from a macro, owned otherwise.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Cow<'static, str>);

impl Key {
    /// A key from a static string; no allocation.
    pub const fn from_static(s: &'static str) -> Self {
        Key(Cow::Borrowed(s))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The length of an owned key; 0 for a static one (program text).
    #[inline]
    pub(crate) fn owned_len(&self) -> usize {
        match &self.0 {
            Cow::Owned(s) => s.len(),
            Cow::Borrowed(_) => 0,
        }
    }

    /// The key's text when it is a `&'static str` (a key written in a macro call).
    pub(crate) fn as_static(&self) -> Option<&'static str> {
        match self.0 {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&'static str> for Key {
    fn from(s: &'static str) -> Self {
        Key(Cow::Borrowed(s))
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key(Cow::Owned(s))
    }
}

impl From<Cow<'static, str>> for Key {
    fn from(s: Cow<'static, str>) -> Self {
        Key(s)
    }
}

/// A string of at most `N` bytes (by default [`INLINE_CAPACITY`], the size a
/// [`Value`] holds inline) stored in place, with no allocation.
///
/// ```
/// use fapilog_core::InlineStr;
///
/// let s: InlineStr = InlineStr::new("short").unwrap();
/// assert_eq!(s.as_str(), "short");
/// assert!(InlineStr::<4>::new("too long").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineStr<const N: usize = INLINE_CAPACITY> {
    len: u8,
    // Zeroed past `len`, so the derived comparisons and hash see only the text.
    buf: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    /// Copies `s` inline, or returns `None` when it is longer than `N` bytes.
    #[inline]
    pub fn new(s: &str) -> Option<Self> {
        if s.len() > N {
            return None;
        }
        Some(InlineStr {
            len: s.len() as u8,
            buf: copy_short(s.as_bytes()),
        })
    }

    /// The stored bytes, without the UTF-8 check [`as_str`](Self::as_str) makes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this cannot fail; the
        // fallback keeps the code free of panics and unsafe.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Copies at most `N` bytes with two overlapping fixed-size copies, which
/// compile to a few moves; a variable-length `copy_from_slice` calls
/// `memcpy`, and that call was a third of a logging call's cost.
#[inline(always)]
fn copy_short<const N: usize>(b: &[u8]) -> [u8; N] {
    const {
        assert!(
            N <= 64,
            "two overlapping 32-byte copies cover at most 64 bytes"
        )
    };
    fn pair<const C: usize, const N: usize>(buf: &mut [u8; N], b: &[u8]) {
        let n = b.len();
        buf[..C].copy_from_slice(&b[..C]);
        buf[n - C..n].copy_from_slice(&b[n - C..]);
    }
    let mut buf = [0u8; N];
    match b.len() {
        32.. => pair::<32, N>(&mut buf, b),
        16..=31 => pair::<16, N>(&mut buf, b),
        8..=15 => pair::<8, N>(&mut buf, b),
        4..=7 => pair::<4, N>(&mut buf, b),
        n => buf[..n].iter_mut().zip(b).for_each(|(d, s)| *d = *s),
    }
    buf
}

/// A field's value.
#[derive(Clone)]
#[non_exhaustive]
pub enum Value {
    /// No value (`None`, JSON `null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float; NaN and infinities are written as strings by the encoders.
    F64(f64),
    /// A static string, stored without copying.
    Static(&'static str),
    /// A short string copied inline.
    Inline(InlineStr),
    /// A string copied to the heap.
    Owned(Box<str>),
    /// A list of values.
    Seq(Box<[Value]>),
    /// Nested key/value pairs.
    Map(Box<[Field]>),
}

impl Value {
    /// A string value: static strings are not copied.
    pub const fn from_static(s: &'static str) -> Self {
        Value::Static(s)
    }

    /// A string value copied from `s`: inline when short, on the heap otherwise.
    #[inline]
    pub fn from_str_copied(s: &str) -> Self {
        match InlineStr::new(s) {
            Some(inline) => Value::Inline(inline),
            None => Value::Owned(s.into()),
        }
    }

    /// Renders `v` with `Display` now; short results do not allocate.
    pub fn display<T: fmt::Display + ?Sized>(v: &T) -> Self {
        let mut w = CaptureWriter::default();
        let _ = write!(w, "{v}");
        w.finish()
    }

    /// Renders `v` with `Debug` now; short results do not allocate.
    pub fn debug<T: fmt::Debug + ?Sized>(v: &T) -> Self {
        let mut w = CaptureWriter::default();
        let _ = write!(w, "{v:?}");
        w.finish()
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Static(s) => Some(s),
            Value::Inline(s) => Some(s.as_str()),
            Value::Owned(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of a string value, without the UTF-8 check
    /// [`as_str`](Self::as_str) makes for an inline one.
    pub(crate) fn text_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Static(s) => Some(s.as_bytes()),
            Value::Inline(s) => Some(s.as_bytes()),
            Value::Owned(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The value as `u64`, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(v) => Some(v),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as `i64`, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I64(v) => Some(v),
            Value::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as `f64`, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F64(v) => Some(v),
            Value::I64(v) => Some(v as f64),
            Value::U64(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The value as `bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(v) => fmt::Debug::fmt(v, f),
            Value::I64(v) => fmt::Debug::fmt(v, f),
            Value::U64(v) => fmt::Debug::fmt(v, f),
            Value::F64(v) => fmt::Debug::fmt(v, f),
            Value::Seq(items) => f.debug_list().entries(items.iter()).finish(),
            Value::Map(fields) => f
                .debug_map()
                .entries(fields.iter().map(|x| (&x.key, &x.value)))
                .finish(),
            other => fmt::Debug::fmt(other.as_str().unwrap_or_default(), f),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Seq(a), Value::Seq(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (a, b) => match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => x == y,
                (None, None) => {
                    a.as_i64().is_some() && a.as_i64() == b.as_i64()
                        || a.as_u64().is_some() && a.as_u64() == b.as_u64()
                }
                _ => false,
            },
        }
    }
}

/// Collects formatter output inline, spilling to the heap only when it grows too long.
#[derive(Default)]
struct CaptureWriter {
    inline: [u8; INLINE_CAPACITY],
    len: usize,
    spilled: Option<String>,
}

impl fmt::Write for CaptureWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(heap) = &mut self.spilled {
            heap.push_str(s);
        } else if self.len + s.len() <= INLINE_CAPACITY {
            self.inline[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut heap = String::with_capacity((self.len + s.len()) * 2);
            heap.push_str(std::str::from_utf8(&self.inline[..self.len]).unwrap_or_default());
            heap.push_str(s);
            self.spilled = Some(heap);
        }
        Ok(())
    }
}

impl CaptureWriter {
    fn finish(self) -> Value {
        match self.spilled {
            Some(heap) => Value::Owned(heap.into_boxed_str()),
            None => Value::from_str_copied(
                std::str::from_utf8(&self.inline[..self.len]).unwrap_or_default(),
            ),
        }
    }
}

/// A named value.
#[derive(Clone, PartialEq)]
pub struct Field {
    /// The field's name.
    pub key: Key,
    /// The field's value.
    pub value: Value,
}

impl Field {
    /// A field from anything that converts into a key and a value.
    pub fn new(key: impl Into<Key>, value: impl IntoValue) -> Self {
        Field {
            key: key.into(),
            value: value.into_value(),
        }
    }

    /// The field's name.
    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// The field's value.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.key, self.value)
    }
}

/// Conversion of a caller's data into an owned [`Value`]; what the field macros call.
///
/// Borrowed strings are copied (inline when short); integers, floats and
/// booleans are stored as they are.
pub trait IntoValue {
    /// Captures `self` as an owned value.
    fn into_value(self) -> Value;
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl IntoValue for &Value {
    fn into_value(self) -> Value {
        self.clone()
    }
}

impl IntoValue for &str {
    #[inline]
    fn into_value(self) -> Value {
        Value::from_str_copied(self)
    }
}

impl IntoValue for &&str {
    fn into_value(self) -> Value {
        Value::from_str_copied(self)
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        match InlineStr::new(&self) {
            Some(inline) => Value::Inline(inline),
            None => Value::Owned(self.into_boxed_str()),
        }
    }
}

impl IntoValue for &String {
    fn into_value(self) -> Value {
        Value::from_str_copied(self)
    }
}

impl IntoValue for Cow<'static, str> {
    fn into_value(self) -> Value {
        match self {
            Cow::Borrowed(s) => Value::Static(s),
            Cow::Owned(s) => s.into_value(),
        }
    }
}

// The borrowed forms below are what the macros' `key` shorthand passes
// (`&key`), so that it takes every type `key = key` takes.

impl IntoValue for &Cow<'static, str> {
    fn into_value(self) -> Value {
        match self {
            Cow::Borrowed(s) => Value::Static(s),
            Cow::Owned(s) => Value::from_str_copied(s),
        }
    }
}

impl IntoValue for char {
    fn into_value(self) -> Value {
        let mut buf = [0u8; 4];
        Value::from_str_copied(self.encode_utf8(&mut buf))
    }
}

impl IntoValue for &char {
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

impl<'a, T> IntoValue for &'a Option<T>
where
    &'a T: IntoValue,
{
    fn into_value(self) -> Value {
        self.as_ref().map_or(Value::Null, IntoValue::into_value)
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::Seq(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<'a, T> IntoValue for &'a Vec<T>
where
    &'a T: IntoValue,
{
    fn into_value(self) -> Value {
        Value::Seq(self.iter().map(IntoValue::into_value).collect())
    }
}

macro_rules! into_value_by_copy {
    ($variant:ident as $as:ty: $($t:ty),*) => {$(
        impl IntoValue for $t {
            #[inline]
            fn into_value(self) -> Value {
                Value::$variant(self as $as)
            }
        }
        impl IntoValue for &$t {
            #[inline]
            fn into_value(self) -> Value {
                Value::$variant(*self as $as)
            }
        }
    )*};
}

into_value_by_copy!(I64 as i64: i8, i16, i32, i64, isize);
into_value_by_copy!(U64 as u64: u8, u16, u32, u64, usize);
into_value_by_copy!(F64 as f64: f64);
into_value_by_copy!(Bool as bool: bool);

/// An `f32` as the `f64` nearest its shortest decimal form, so that it is
/// written as it reads (`0.1f32` as `0.1`, not `0.10000000149011612`).
impl IntoValue for f32 {
    fn into_value(self) -> Value {
        if !self.is_finite() {
            return Value::F64(f64::from(self));
        }
        let shortest = ryu::Buffer::new().format_finite(self).parse::<f64>();
        Value::F64(shortest.unwrap_or(f64::from(self)))
    }
}

impl IntoValue for &f32 {
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

impl IntoValue for i128 {
    fn into_value(self) -> Value {
        i64::try_from(self)
            .map(Value::I64)
            .unwrap_or_else(|_| Value::display(&self))
    }
}

impl IntoValue for u128 {
    fn into_value(self) -> Value {
        u64::try_from(self)
            .map(Value::U64)
            .unwrap_or_else(|_| Value::display(&self))
    }
}

impl IntoValue for &i128 {
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

impl IntoValue for &u128 {
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

macro_rules! from_into_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                v.into_value()
            }
        }
    )*};
}
from_into_value!(
    &str,
    String,
    &String,
    char,
    i8,
    i16,
    i32,
    i64,
    isize,
    u8,
    u16,
    u32,
    u64,
    usize,
    f32,
    f64,
    bool,
    i128,
    u128,
    Cow<'static, str>
);

/// Conversion used by the macros for literal field values: string literals are
/// stored as `&'static str`, without copying.
#[doc(hidden)]
pub trait LiteralValue {
    fn literal_value(self) -> Value;
}

impl LiteralValue for &'static str {
    #[inline]
    fn literal_value(self) -> Value {
        Value::Static(self)
    }
}

macro_rules! literal_by_into {
    ($($t:ty),*) => {$(
        impl LiteralValue for $t {
            #[inline]
            fn literal_value(self) -> Value {
                self.into_value()
            }
        }
    )*};
}
literal_by_into!(
    i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64, bool, char, i128, u128
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_f32_keeps_its_shortest_form() {
        for (x, expected) in [
            (0.1f32, 0.1),
            (1.0 / 3.0, 0.33333334),
            (16_777_216.0, 16_777_216.0),
        ] {
            assert!(
                matches!(x.into_value(), Value::F64(v) if v == expected),
                "{x}"
            );
        }
        assert!(matches!(f32::NAN.into_value(), Value::F64(v) if v.is_nan()));
        assert!(
            matches!((&f32::NEG_INFINITY).into_value(), Value::F64(v) if v == f64::NEG_INFINITY)
        );
    }

    #[test]
    fn value_stays_small() {
        assert!(
            std::mem::size_of::<Value>() <= 24,
            "{}",
            std::mem::size_of::<Value>()
        );
    }

    #[test]
    fn short_strings_are_inline_long_ones_owned() {
        assert!(matches!(Value::from("short"), Value::Inline(_)));
        let long = "x".repeat(INLINE_CAPACITY + 1);
        assert!(matches!(Value::from(long.as_str()), Value::Owned(_)));
        assert!(matches!(
            Value::from("x".repeat(INLINE_CAPACITY).as_str()),
            Value::Inline(_)
        ));
        assert!(matches!("lit".literal_value(), Value::Static("lit")));
    }

    #[test]
    fn inline_copies_are_exact_at_every_length() {
        fn check<const N: usize>() {
            let text: String = ('a'..='z').cycle().take(N + 1).collect();
            for n in 0..=N {
                let inline = InlineStr::<N>::new(&text[..n]).unwrap();
                assert_eq!(inline.as_str(), &text[..n]);
                assert_eq!(inline, InlineStr::<N>::new(&text[..n]).unwrap());
            }
            assert!(InlineStr::<N>::new(&text).is_none());
        }
        check::<INLINE_CAPACITY>();
        check::<46>();
        check::<64>();
    }

    #[test]
    fn display_capture_spills_only_when_long() {
        assert!(matches!(Value::display(&12345u32), Value::Inline(_)));
        let long = "é".repeat(30);
        let v = Value::display(&long);
        assert!(matches!(v, Value::Owned(_)));
        assert_eq!(v.as_str(), Some(long.as_str()));
        assert_eq!(Value::debug("a\"b").as_str(), Some("\"a\\\"b\""));
    }

    #[test]
    fn numbers_convert_and_compare() {
        assert_eq!(Value::from(-3i32).as_i64(), Some(-3));
        assert_eq!(Value::from(3u8), Value::from(3i64));
        assert_eq!(
            Value::from(u128::MAX).as_str(),
            Some(u128::MAX.to_string().as_str())
        );
        assert_eq!(Some(2.5f32).into_value().as_f64(), Some(2.5));
        assert_eq!(None::<u32>.into_value(), Value::Null);
    }
}
