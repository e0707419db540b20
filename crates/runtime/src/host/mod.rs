//! What a Rust host gives a runtime, and how it talks to a running script.
//!
//! - [`HostModule`]: a Python module of Rust functions. Plain ones return at once; async ones
//!   hand the host a [`Completion`] and give Python an awaitable that finishes when the host
//!   completes it, from any thread.
//! - [`Handle`]: `Send` and `Clone`; it sets named ThreadSafeFlags, queues calls of Python
//!   functions on the loop, stops `run_forever` and interrupts a run, from any thread.
//!
//! Everything that crosses threads meets in one [`Link`] per runtime: the loop's notifier
//! wakes the poller, and the loop reads what arrived on its own thread, through the host's
//! wake-up source ([`HostSource`]).
//!
//! One file per job: `error.rs` (the errors host functions return), `module.rs` (host modules
//! and the function objects Python calls), `call.rs` (async calls: [`Completion`], the
//! awaitable, host futures), `link.rs` ([`Link`] and [`Handle`]), `source.rs` (the loop's side
//! of the link), `pymodule.rs` (the `microloop` Python module).

use std::sync::{Mutex, MutexGuard, PoisonError};

mod call;
mod error;
mod link;
mod module;
mod pymodule;
mod source;

pub use call::Completion;
pub use error::{ErrorKind, HostError};
pub use link::{Closed, Handle};
pub use module::HostModule;

pub(crate) use link::Link;
pub(crate) use module::HostFn;
pub(crate) use pymodule::microloop_mod;
pub(crate) use source::HostSource;

/// Locks `m`, carrying on if a thread panicked while holding it: every value behind these
/// locks is valid at every point, so a poisoned lock holds nothing half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Handle>();
    assert_send_sync::<Completion>();
};
