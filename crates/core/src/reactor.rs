//! Readiness polling over `mio`, plus a cross-thread wake-up handle.
//!
//! [`Reactor`] owns the `mio::Poll` the loop blocks in. Other threads hold a
//! [`Notifier`]: `notify()` raises a pending flag and, on the flag's rising
//! edge only, fires a `mio::Waker`, so a burst of notifications costs one
//! syscall and the loop learns of them all through [`Reactor::take_notified`].
//!
//! File descriptors are registered under tokens allocated from a free list.
//! Readiness is edge-triggered (mio registers with `EPOLLET`/`EV_CLEAR`): a
//! source reports again only after new activity, so a reader must either
//! drain it until `WouldBlock` or call [`Reactor::reregister`], which re-arms
//! the registration and reports readiness that is already present.

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Poll, Waker};

pub use mio::Token;

/// Token of the internal waker. Registration tokens are slab indices, which never reach `usize::MAX`.
pub const WAKE_TOKEN: Token = Token(usize::MAX);

/// Events fetched per `poll` call; any excess is delivered by the next call.
const EVENTS_CAPACITY: usize = 1024;

/// Which readiness a registration waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interest {
    /// Readable, including end-of-stream.
    Read,
    /// Writable.
    Write,
    /// Both readable and writable.
    ReadWrite,
}

impl From<Interest> for mio::Interest {
    fn from(interest: Interest) -> Self {
        match interest {
            Interest::Read => mio::Interest::READABLE,
            Interest::Write => mio::Interest::WRITABLE,
            Interest::ReadWrite => mio::Interest::READABLE | mio::Interest::WRITABLE,
        }
    }
}

/// One readiness event for a registered descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The token returned by [`Reactor::register`] for the descriptor.
    pub token: Token,
    /// Data (or end-of-stream) can be read without blocking.
    pub readable: bool,
    /// Data can be written without blocking.
    pub writable: bool,
    /// An error or hang-up was reported; waiters in either direction should retry and observe it.
    pub error_or_hup: bool,
}

impl Readiness {
    /// Translates a mio event, folding every error and hang-up flavour into `error_or_hup`.
    fn from_event(event: &mio::event::Event) -> Self {
        Self {
            token: event.token(),
            readable: event.is_readable(),
            writable: event.is_writable(),
            error_or_hup: event.is_error() || event.is_read_closed() || event.is_write_closed(),
        }
    }
}

/// State shared between the reactor and its notifiers.
#[derive(Debug)]
struct NotifierInner {
    /// Interrupts a blocked `poll` from any thread.
    waker: Waker,
    /// Set by `notify`, cleared by `take_notified`; also coalesces wake-ups while set.
    pending: AtomicBool,
}

/// Cloneable, thread-safe handle that wakes the reactor's `poll`.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// The waker and flag shared with the reactor.
    inner: Arc<NotifierInner>,
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Notifier>();
};

impl Notifier {
    /// Marks the reactor notified and wakes its `poll` unless a notification is already pending.
    ///
    /// Writes made before this call are visible to the thread that then sees
    /// [`Reactor::take_notified`] return `true`.
    pub fn notify(&self) {
        if !self.inner.pending.swap(true, Ordering::AcqRel) && self.inner.waker.wake().is_err() {
            self.inner.pending.store(false, Ordering::Release);
        }
    }
}

/// The loop's blocking point: readiness of registered descriptors and cross-thread notifications.
#[derive(Debug)]
pub struct Reactor {
    /// The OS selector (epoll/kqueue).
    poll: Poll,
    /// Reused event buffer, so polling does not allocate.
    events: Events,
    /// Waker and pending flag, shared with every [`Notifier`].
    notifier: Arc<NotifierInner>,
    /// `registered[i]` says whether `Token(i)` is in use, to reject unknown tokens.
    registered: Vec<bool>,
    /// Released token indices, reused before new ones are minted.
    free: Vec<usize>,
    /// Number of live registrations, for [`Reactor::has_registrations`].
    live: usize,
}

impl Reactor {
    /// Creates a reactor with its own selector and waker.
    pub fn new() -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Self {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            notifier: Arc::new(NotifierInner {
                waker,
                pending: AtomicBool::new(false),
            }),
            registered: Vec::new(),
            free: Vec::new(),
            live: 0,
        })
    }

    /// Returns a handle other threads use to wake this reactor.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            inner: Arc::clone(&self.notifier),
        }
    }

    /// Clears the pending flag and returns whether any [`Notifier::notify`] happened since the last call.
    pub fn take_notified(&self) -> bool {
        self.notifier.pending.swap(false, Ordering::AcqRel)
    }

    /// Starts watching `fd` and returns its token.
    ///
    /// The caller keeps ownership of `fd` and must [`deregister`](Self::deregister)
    /// it before closing it, or the token stays allocated.
    pub fn register(&mut self, fd: RawFd, interest: Interest) -> io::Result<Token> {
        let index = self.free.pop().unwrap_or(self.registered.len());
        let token = Token(index);
        if let Err(err) = self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), token, interest.into())
        {
            if index < self.registered.len() {
                self.free.push(index);
            }
            return Err(err);
        }
        if index == self.registered.len() {
            self.registered.push(true);
        } else {
            self.registered[index] = true;
        }
        self.live += 1;
        Ok(token)
    }

    /// Changes the interest of a registered `fd`, re-arming it so present readiness is reported again.
    pub fn reregister(&mut self, token: Token, fd: RawFd, interest: Interest) -> io::Result<()> {
        self.check_registered(token)?;
        self.poll
            .registry()
            .reregister(&mut SourceFd(&fd), token, interest.into())
    }

    /// Stops watching `fd` and frees `token` for reuse, even if the OS reports an error.
    pub fn deregister(&mut self, token: Token, fd: RawFd) -> io::Result<()> {
        self.check_registered(token)?;
        self.registered[token.0] = false;
        self.free.push(token.0);
        self.live -= 1;
        self.poll.registry().deregister(&mut SourceFd(&fd))
    }

    /// The selector's own descriptor, readable when a wait would return at once: for waiting on
    /// the reactor together with other things (`poll(2)` on it and more descriptors).
    pub fn selector_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.poll)
    }

    /// True while at least one descriptor is registered.
    pub fn has_registrations(&self) -> bool {
        self.live > 0
    }

    /// Waits up to `timeout` (forever if `None`) for readiness or a notification and stores the
    /// descriptor events in `out`, replacing its contents.
    ///
    /// Waker events are not reported; use [`take_notified`](Self::take_notified).
    /// A wait interrupted by a signal returns early with no events, so that the caller can run
    /// its signal handlers (Ctrl-C must not wait for the next deadline) and then poll again.
    pub fn poll(&mut self, timeout: Option<Duration>, out: &mut Vec<Readiness>) -> io::Result<()> {
        out.clear();
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(err) => return Err(err),
        }
        out.extend(
            self.events
                .iter()
                .filter(|event| event.token() != WAKE_TOKEN)
                .map(Readiness::from_event),
        );
        Ok(())
    }

    /// Rejects tokens that are not currently registered, so a stale token cannot free another fd's slot.
    fn check_registered(&self, token: Token) -> io::Result<()> {
        if self.registered.get(token.0).copied().unwrap_or(false) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{token:?} is not registered"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::thread;
    use std::time::Instant;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn poll_now(reactor: &mut Reactor) -> Vec<Readiness> {
        let mut out = Vec::new();
        reactor.poll(Some(Duration::ZERO), &mut out).unwrap();
        out
    }

    #[test]
    fn notify_from_other_thread_wakes_blocking_poll() {
        let mut reactor = Reactor::new().unwrap();
        let notifier = reactor.notifier();
        let handle = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            notifier.notify();
        });
        let mut out = vec![Readiness {
            token: Token(7),
            readable: true,
            writable: true,
            error_or_hup: true,
        }];
        reactor.poll(None, &mut out).unwrap();
        handle.join().unwrap();
        assert!(out.is_empty());
        assert!(reactor.take_notified());
        assert!(!reactor.take_notified());
    }

    #[test]
    fn notifications_coalesce() {
        let mut reactor = Reactor::new().unwrap();
        let notifier = reactor.notifier();
        notifier.notify();
        notifier.clone().notify();
        assert!(poll_now(&mut reactor).is_empty());
        assert!(reactor.take_notified());
        assert!(!reactor.take_notified());
        assert!(!reactor.take_notified());
    }

    #[test]
    fn notify_before_poll_is_not_lost() {
        let mut reactor = Reactor::new().unwrap();
        reactor.notifier().notify();
        let start = Instant::now();
        let mut out = Vec::new();
        reactor
            .poll(Some(Duration::from_secs(10)), &mut out)
            .unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(reactor.take_notified());
    }

    #[test]
    fn idle_poll_times_out() {
        let mut reactor = Reactor::new().unwrap();
        let mut out = Vec::new();
        let start = Instant::now();
        reactor
            .poll(Some(Duration::from_millis(10)), &mut out)
            .unwrap();
        let elapsed = start.elapsed();
        assert!(out.is_empty());
        assert!(elapsed >= Duration::from_millis(10), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        assert!(!reactor.take_notified());
    }

    #[test]
    fn readable_fd_reports_its_token() {
        let mut reactor = Reactor::new().unwrap();
        let (a, mut b) = pair();
        let token = reactor.register(a.as_raw_fd(), Interest::Read).unwrap();
        assert_ne!(token, WAKE_TOKEN);
        assert!(poll_now(&mut reactor).is_empty());
        b.write_all(b"x").unwrap();
        let mut out = Vec::new();
        reactor
            .poll(Some(Duration::from_secs(5)), &mut out)
            .unwrap();
        assert_eq!(
            out,
            [Readiness {
                token,
                readable: true,
                writable: false,
                error_or_hup: false
            }]
        );
        reactor.deregister(token, a.as_raw_fd()).unwrap();
    }

    #[test]
    fn reregister_rearms_edge_triggered_readiness() {
        let mut reactor = Reactor::new().unwrap();
        let (mut a, mut b) = pair();
        let token = reactor.register(a.as_raw_fd(), Interest::Read).unwrap();
        b.write_all(b"xy").unwrap();
        assert_eq!(poll_now(&mut reactor).len(), 1);
        let mut byte = [0u8];
        a.read_exact(&mut byte).unwrap();
        assert!(poll_now(&mut reactor).is_empty());
        reactor
            .reregister(token, a.as_raw_fd(), Interest::Read)
            .unwrap();
        let out = poll_now(&mut reactor);
        assert_eq!(out.len(), 1);
        assert!(out[0].readable && out[0].token == token);
    }

    #[test]
    fn writable_and_hangup() {
        let mut reactor = Reactor::new().unwrap();
        let (a, b) = pair();
        let token = reactor
            .register(a.as_raw_fd(), Interest::ReadWrite)
            .unwrap();
        let out = poll_now(&mut reactor);
        assert_eq!(
            out,
            [Readiness {
                token,
                readable: false,
                writable: true,
                error_or_hup: false
            }]
        );
        drop(b);
        let out = poll_now(&mut reactor);
        assert_eq!(out.len(), 1);
        assert!(out[0].error_or_hup && out[0].readable);
    }

    #[test]
    fn tokens_are_reused_and_counted() {
        let mut reactor = Reactor::new().unwrap();
        let (a, _a2) = pair();
        let (b, _b2) = pair();
        let (c, _c2) = pair();
        assert!(!reactor.has_registrations());
        let ta = reactor.register(a.as_raw_fd(), Interest::Read).unwrap();
        let tb = reactor.register(b.as_raw_fd(), Interest::Write).unwrap();
        assert_eq!((ta, tb), (Token(0), Token(1)));
        assert!(reactor.has_registrations());
        reactor.deregister(ta, a.as_raw_fd()).unwrap();
        assert!(reactor.has_registrations());
        assert!(reactor.deregister(ta, a.as_raw_fd()).is_err());
        assert!(
            reactor
                .reregister(ta, a.as_raw_fd(), Interest::Read)
                .is_err()
        );
        let tc = reactor.register(c.as_raw_fd(), Interest::Read).unwrap();
        assert_eq!(tc, ta);
        reactor.deregister(tb, b.as_raw_fd()).unwrap();
        reactor.deregister(tc, c.as_raw_fd()).unwrap();
        assert!(!reactor.has_registrations());
    }

    #[test]
    fn failed_register_releases_the_token() {
        let mut reactor = Reactor::new().unwrap();
        assert!(reactor.register(-1, Interest::Read).is_err());
        assert!(!reactor.has_registrations());
        let (a, _a2) = pair();
        let ta = reactor.register(a.as_raw_fd(), Interest::Read).unwrap();
        assert_eq!(ta, Token(0));
        assert!(reactor.register(-1, Interest::Write).is_err());
        let (b, _b2) = pair();
        assert_eq!(
            reactor.register(b.as_raw_fd(), Interest::Read).unwrap(),
            Token(1)
        );
    }

    #[test]
    fn deregister_frees_slot_even_when_os_fails() {
        let mut reactor = Reactor::new().unwrap();
        let (a, _a2) = pair();
        let token = reactor.register(a.as_raw_fd(), Interest::Read).unwrap();
        assert!(reactor.deregister(token, -1).is_err());
        assert!(!reactor.has_registrations());
        let (b, _b2) = pair();
        assert_eq!(
            reactor.register(b.as_raw_fd(), Interest::Read).unwrap(),
            token
        );
    }
}
