//! Letting the other threads go when one of them panics.
//!
//! The worker pools (the tree's listing, files/walk.rs; encoding and
//! hashing, package/ordered_pool.rs) wait on a condition variable for work
//! or for results. A thread that panicked would never do what the others
//! wait for, and `std::thread::scope` joins every thread before it passes
//! the panic on: the build would hang instead of failing. Each thread holds
//! a [`WakeOnPanic`] whose action, run only while it unwinds, tells the
//! others to stop and wakes them.

/// Runs its action when dropped during a panic.
pub struct WakeOnPanic<F: Fn()>(pub F);

impl<F: Fn()> Drop for WakeOnPanic<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}
