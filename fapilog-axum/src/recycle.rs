//! Per-thread pools of what finished requests leave behind (their loggers,
//! the buffers of unkept requests), taken oldest first for the next request
//! on the same thread.
//!
//! An item is pooled when its request ends and reused only once nothing else
//! holds it (the caller checks, with `Arc::get_mut`); the oldest item is the
//! likeliest to be free. Each pool has a bound: beyond it, items are dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::thread::LocalKey;

/// One thread's pool of `T`.
pub(crate) type Pool<T> = RefCell<VecDeque<T>>;

/// The oldest item of this thread's `pool`, if any.
pub(crate) fn take_oldest<T>(pool: &'static LocalKey<Pool<T>>) -> Option<T> {
    pool.try_with(|pool| pool.borrow_mut().pop_front())
        .ok()
        .flatten()
}

/// Puts `item` back at the young end of this thread's `pool`, unless the
/// pool already holds `bound` items.
pub(crate) fn give_back<T>(pool: &'static LocalKey<Pool<T>>, item: T, bound: usize) {
    // On a thread being torn down the pool is gone: the item is just dropped.
    let _ = pool.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < bound {
            pool.push_back(item);
        }
    });
}
