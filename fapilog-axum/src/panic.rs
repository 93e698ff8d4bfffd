//! Where a handler panicked: a chaining panic hook records the location.
//!
//! `catch_unwind` gives the panic's message but not its location, so the
//! layer installs (once per process) a panic hook that remembers the last
//! panic's message and location on the panicking thread, then calls the hook
//! that was there before. A location is only given for the message it was
//! recorded with: a panic resumed with `resume_unwind` (which runs no hook)
//! must not take the location of an earlier panic caught elsewhere.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    /// The last panic's message and location.
    static LAST_LOCATION: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the location-recording hook, keeping the previous hook in the chain.
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|l| {
                let message = message(info.payload());
                (message, format!("{}:{}:{}", l.file(), l.line(), l.column()))
            });
            // `try_with`: on a thread tearing down its storage the location
            // is lost; a panic here would abort the process.
            let _ = LAST_LOCATION.try_with(|cell| *cell.borrow_mut() = location);
            previous(info);
        }));
    });
}

/// The location recorded for the last panic on this thread, taken, if that
/// panic's message is `message`.
pub(crate) fn take_location(message: &str) -> Option<String> {
    let (recorded, location) = LAST_LOCATION
        .try_with(|cell| cell.borrow_mut().take())
        .ok()
        .flatten()?;
    (recorded == message).then_some(location)
}

/// The panic's message, when it is a string.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// The core's helper for tests that rerun themselves in a child process.
#[cfg(test)]
#[path = "../../fapilog-core/src/sink/test_child.rs"]
mod test_child;

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "FAPILOG_PANIC_HOOK_CHILD";

    /// Catches a panic of its own when dropped, as a destructor may.
    struct CatchesWhenDropped;

    impl Drop for CatchesWhenDropped {
        fn drop(&mut self) {
            let _ = std::panic::catch_unwind(|| panic!("caught in a destructor"));
        }
    }

    thread_local! {
        static EARLY: CatchesWhenDropped = const { CatchesWhenDropped };
    }

    /// A panic caught while a thread's storage is torn down, after the
    /// hook's own storage is gone, must not make the hook panic (a panic
    /// inside a panic hook aborts the process). Runs in a child process,
    /// since the hook is process-wide and the old failure was an abort.
    #[test]
    fn the_hook_survives_a_panic_caught_while_a_thread_is_torn_down() {
        let name = "panic::tests::the_hook_survives_a_panic_caught_while_a_thread_is_torn_down";
        if std::env::var_os(CHILD).is_none() {
            let exe = std::process::Command::new(std::env::current_exe().unwrap());
            super::test_child::run(exe, name, CHILD);
            return;
        }
        install_hook();
        std::thread::spawn(|| {
            EARLY.with(|_| {});
            // The hook's storage is first used here, after EARLY's: it is
            // torn down first, then EARLY's destructor panics.
            let _ = std::panic::catch_unwind(|| panic!("first"));
            assert!(take_location("first").is_some_and(|l| l.contains("panic.rs")));
        })
        .join()
        .unwrap();
    }
}
