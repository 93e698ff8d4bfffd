//! Where a handler panicked: a chaining panic hook records the location.
//!
//! `catch_unwind` gives the panic's message but not its location, so the
//! layer installs (once per process) a panic hook that remembers the last
//! location on the panicking thread, then calls the hook that was there before.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the location-recording hook, keeping the previous hook in the chain.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            LAST_LOCATION.with(|cell| *cell.borrow_mut() = location);
            previous(info);
        }));
    });
}

/// The location recorded for the last panic on this thread, taken.
pub(crate) fn take_location() -> Option<String> {
    LAST_LOCATION.with(|cell| cell.borrow_mut().take())
}

/// The panic's message, when it is a string.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
