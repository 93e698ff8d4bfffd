//! The calling thread's name, captured for the price of a thread-local read.
//!
//! The first event a thread logs interns its name (once per thread, under a
//! lock) and caches the small number that stands for it in a thread-local;
//! every event after that copies the number. The writer turns the number
//! back into the name. Names are interned for the life of the process, at
//! most [`MAX_NAMES`] distinct ones; threads named after that, and unnamed
//! threads, are written without `thread.name`.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Most distinct thread names interned.
pub(crate) const MAX_NAMES: usize = 1024;

/// No name known for the thread (unnamed, or too many names).
pub(crate) const NO_NAME: u32 = u32::MAX;

thread_local! {
    /// 0: not interned yet; otherwise the thread's tag.
    static TAG: Cell<u32> = const { Cell::new(0) };
}

#[derive(Default)]
struct Names {
    by_tag: Vec<&'static str>,
    by_name: HashMap<&'static str, u32>,
}

static NAMES: Mutex<Option<Names>> = Mutex::new(None);

/// The calling thread's tag: a thread-local read after the first call.
#[inline]
pub(crate) fn current() -> u32 {
    TAG.with(|tag| match tag.get() {
        0 => intern_current(tag),
        known => known,
    })
}

#[cold]
#[inline(never)]
fn intern_current(tag: &Cell<u32>) -> u32 {
    let value = match std::thread::current().name() {
        None => NO_NAME,
        Some(name) => {
            let mut guard = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
            let names = guard.get_or_insert_with(Names::default);
            match names.by_name.get(name) {
                Some(&known) => known,
                None if names.by_tag.len() >= MAX_NAMES => NO_NAME,
                None => {
                    // Interned once per distinct name, for the life of the process.
                    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
                    names.by_tag.push(leaked);
                    let tag = names.by_tag.len() as u32;
                    names.by_name.insert(leaked, tag);
                    tag
                }
            }
        }
    };
    tag.set(value);
    value
}

/// The name a tag stands for.
pub(crate) fn name(tag: u32) -> Option<&'static str> {
    if tag == 0 || tag == NO_NAME {
        return None;
    }
    let guard = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    guard.as_ref()?.by_tag.get(tag as usize - 1).copied()
}

/// The writer's cache of tag → name, refreshed on a miss.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    names: Vec<Option<&'static str>>,
}

impl NameCache {
    pub(crate) fn get(&mut self, tag: u32) -> Option<&'static str> {
        if tag == 0 || tag == NO_NAME {
            return None;
        }
        let index = tag as usize - 1;
        if let Some(Some(hit)) = self.names.get(index) {
            return Some(hit);
        }
        let found = name(tag);
        if self.names.len() <= index {
            self.names.resize(index + 1, None);
        }
        self.names[index] = found;
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_threads_share_a_tag_per_name() {
        let spawn = |name: &str| {
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(|| (current(), current()))
                .unwrap()
                .join()
                .unwrap()
        };
        let (a1, a1_again) = spawn("fapilog-test-a");
        let (a2, _) = spawn("fapilog-test-a");
        let (b, _) = spawn("fapilog-test-b");
        assert_eq!(a1, a1_again);
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        let mut cache = NameCache::default();
        assert_eq!(cache.get(a1), Some("fapilog-test-a"));
        assert_eq!(cache.get(b), Some("fapilog-test-b"));
        let unnamed = std::thread::spawn(current).join().unwrap();
        assert_eq!(unnamed, NO_NAME);
        assert_eq!(cache.get(unnamed), None);
    }
}
