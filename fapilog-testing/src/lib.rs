#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod capture;
pub mod event;
pub mod fault;
pub mod fixture;
pub mod memory_sink;

pub use capture::{
    FlushError, LogCapture, LogCaptureBuilder, DEFAULT_CAPTURE_DRAIN_DEADLINE,
    DEFAULT_CAPTURE_LEVEL,
};
pub use event::{CapturedEvent, LoggedError, ParseEventError, FAPILOG_TARGET};
pub use fault::{Faults, FaultySink, INJECTED_ERROR, INJECTED_PANIC};
pub use fixture::{TestApp, TestAppBuilder, TestResponse, MAX_TEST_BODY};
pub use memory_sink::MemorySink;
