//! microloop's Python-free core.
//!
//! Everything the scheduler needs that has nothing to do with Python lives here:
//! MicroPython's wrap-around tick arithmetic ([`ticks`]), pluggable time sources
//! ([`clock`]), a cancellable deadline queue ([`timer`]), a FIFO queue of waiters that can
//! leave from the middle ([`waitqueue`]) and a thin readiness
//! layer over `mio` with a cross-thread wake-up handle ([`reactor`]), sockets and TLS streams
//! ([`net`], [`stream`], [`tls`]), the pin model with its backends and traces ([`pins`]), and
//! a process heap limit that reports instead of aborting ([`heap`]).

#![warn(missing_docs)]

pub mod clock;
pub mod heap;
pub mod net;
pub mod pins;
pub mod reactor;
pub mod runqueue;
pub mod stream;
pub mod ticks;
pub mod timer;
pub mod tls;
pub mod waitqueue;

pub use clock::{Clock, ManualClock, SystemClock, VirtualClock};
pub use reactor::{Interest, Notifier, Reactor, Readiness, Token, WAKE_TOKEN};
pub use runqueue::RunQueue;
pub use timer::{TimerKey, TimerQueue};
pub use waitqueue::{WaitKey, WaitQueue};
