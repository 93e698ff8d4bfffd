//! fapilog-core: the logging pipeline.
#![forbid(unsafe_code)]

mod context;
mod envelope;
mod error;
mod event;
pub mod format;
mod level;
pub mod sink;
mod value;

pub use context::Context;
pub use envelope::{Envelope, RESERVED_KEYS};
pub use error::{ConfigError, ConfigErrorKind};
pub use event::{CapturedError, Fields, Message, RawEvent, SamplingTag, Timestamp, INLINE_FIELDS};
pub use level::{Level, LevelFilter, ParseLevelError};
#[doc(hidden)]
pub use value::LiteralValue;
pub use value::{Field, InlineStr, IntoValue, Key, Value, INLINE_CAPACITY};
