//! What crosses threads: the [`Link`] one runtime shares with its handles and completions, and
//! the `Send` [`Handle`] the host's other threads hold. The loop's [`Notifier`] wakes the
//! poller, and the loop reads what arrived on its own thread (see `source.rs`).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use microloop_core::Notifier;
use rustpython_vm::{PyResult, VirtualMachine, signal::UserSignalSender};

use super::lock;
use crate::Value;
use crate::asyncio::FlagShared;

/// A request from another thread, handled on the loop's thread.
pub(crate) enum Message {
    /// `call_soon_threadsafe`: a callable's name and its arguments.
    Call(String, Vec<Value>),
    /// Stop `run_forever` (as `loop.stop()`).
    Stop,
}

/// The state one runtime shares with its [`Handle`]s and [`Completion`](super::Completion)s.
pub(crate) struct Link {
    /// Wakes the loop's poller.
    notifier: Notifier,
    /// Makes a running interpreter check for the interrupt between bytecodes.
    signal: Option<UserSignalSender>,
    /// Named ThreadSafeFlags, created by whichever side names one first.
    flags: Mutex<HashMap<String, Arc<FlagShared>>>,
    /// Calls and stops waiting for the loop.
    inbox: Mutex<VecDeque<Message>>,
    /// Set by `interrupt()`; taken by whichever of the loop and the interpreter sees it first.
    interrupt: AtomicBool,
    /// Set when the interrupt was raised, so the run's KeyboardInterrupt reads as
    /// [`crate::Error::Interrupted`].
    raised: AtomicBool,
    /// Live [`Handle`]s: while there is one, the host may still wake the loop.
    handles: AtomicUsize,
    /// The pending deadline (None: none) and whether the runtime is gone.
    deadline: Mutex<(Option<Instant>, bool)>,
    /// Wakes the deadline thread when the deadline changes or the runtime goes.
    deadline_changed: Condvar,
    /// Whether the watchdog thread is running.
    watchdog: AtomicBool,
    /// Whether a run is in progress.
    running: AtomicBool,
}

impl Link {
    pub(crate) fn new(notifier: Notifier, signal: Option<UserSignalSender>) -> Arc<Link> {
        Arc::new(Link {
            notifier,
            signal,
            flags: Mutex::new(HashMap::new()),
            inbox: Mutex::new(VecDeque::new()),
            interrupt: AtomicBool::new(false),
            raised: AtomicBool::new(false),
            handles: AtomicUsize::new(0),
            deadline: Mutex::new((None, false)),
            deadline_changed: Condvar::new(),
            watchdog: AtomicBool::new(false),
            running: AtomicBool::new(false),
        })
    }

    /// The flag named `name`, created if neither side has named it yet.
    pub(crate) fn flag(&self, name: &str) -> Arc<FlagShared> {
        lock(&self.flags).entry(name.to_owned()).or_insert_with(|| Arc::new(FlagShared::new(self.notifier.clone()))).clone()
    }

    /// Everything other threads sent since the last call.
    pub(crate) fn take_messages(&self) -> VecDeque<Message> {
        std::mem::take(&mut *lock(&self.inbox))
    }

    /// Whether a [`Handle`] exists, through which the host could still wake the loop.
    pub(crate) fn has_handles(&self) -> bool {
        self.handles.load(Ordering::Acquire) > 0
    }

    /// Takes a pending interrupt: the KeyboardInterrupt to raise, once.
    pub(crate) fn take_interrupt(&self, vm: &VirtualMachine) -> PyResult<()> {
        if self.interrupt.swap(false, Ordering::AcqRel) {
            self.raised.store(true, Ordering::Release);
            return Err(vm.new_exception_empty(vm.ctx.exceptions.keyboard_interrupt.to_owned()));
        }
        Ok(())
    }

    /// Forgets that an interrupt was raised (a new run starts).
    pub(crate) fn clear_raised(&self) {
        self.raised.store(false, Ordering::Release);
    }

    /// Whether the interrupt was raised since the run began.
    pub(crate) fn was_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
    }

    fn send(&self, message: Message) {
        lock(&self.inbox).push_back(message);
        self.notifier.notify();
    }

    /// Raises the interrupt: the loop sees it at its next wake-up, the interpreter at its next
    /// signal check. The watchdog thread re-arms the interpreter's check until the interrupt
    /// is taken (see [`Link::watch`]).
    fn interrupt(self: &Arc<Self>) {
        self.interrupt.store(true, Ordering::Release);
        self.notifier.notify();
        self.trigger();
        self.ensure_watchdog();
        self.deadline_changed.notify_all();
    }

    /// Queues the interrupt check on the interpreter, which runs it between bytecodes, so a
    /// script busy in pure Python is interrupted too.
    fn trigger(self: &Arc<Self>) {
        if let Some(signal) = &self.signal {
            let link = Arc::downgrade(self);
            // An error only means the interpreter is gone.
            let _ = signal.send(Box::new(move |vm| match link.upgrade() {
                Some(link) => link.take_interrupt(vm),
                None => Ok(()),
            }));
        }
    }

    /// Marks whether a run is in progress (the watchdog re-arms interrupts only then).
    pub(crate) fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Release);
        if running {
            self.deadline_changed.notify_all();
        }
    }

    /// The runtime is going away: the watchdog thread can end.
    pub(crate) fn close(&self) {
        lock(&self.deadline).1 = true;
        self.deadline_changed.notify_all();
    }

    fn set_deadline(self: &Arc<Self>, at: Instant) {
        {
            let mut d = lock(&self.deadline);
            if d.1 {
                return;
            }
            d.0 = Some(at);
        }
        self.deadline_changed.notify_all();
        self.ensure_watchdog();
    }

    fn ensure_watchdog(self: &Arc<Self>) {
        if !self.watchdog.swap(true, Ordering::AcqRel) {
            let link = self.clone();
            std::thread::spawn(move || link.watch());
        }
    }

    /// The watchdog thread, started by the first deadline or interrupt and ended with the
    /// runtime. It fires the deadline, and while an interrupt waits to be taken during a run it
    /// queues the check again every 10 ms: the interpreter's "signal pending" flag is one for
    /// the whole process, so another runtime's interpreter may clear it first and find
    /// nothing of its own to run.
    fn watch(self: Arc<Self>) {
        const REARM: Duration = Duration::from_millis(10);
        let mut d = lock(&self.deadline);
        loop {
            if d.1 {
                return;
            }
            let now = Instant::now();
            if d.0.is_some_and(|at| now >= at) {
                d.0 = None;
                drop(d);
                self.interrupt.store(true, Ordering::Release);
                self.notifier.notify();
                self.trigger();
                d = lock(&self.deadline);
                continue;
            }
            let pending = self.interrupt.load(Ordering::Acquire) && self.running.load(Ordering::Acquire);
            if pending {
                self.trigger();
            }
            let until_deadline = d.0.map(|at| at - now);
            let timeout = match (pending, until_deadline) {
                (true, Some(t)) => Some(t.min(REARM)),
                (true, None) => Some(REARM),
                (false, t) => t,
            };
            d = match timeout {
                Some(t) => self.deadline_changed.wait_timeout(d, t).unwrap_or_else(PoisonError::into_inner).0,
                None => self.deadline_changed.wait(d).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The error a [`Handle`] returns once its runtime has been dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the runtime has been dropped")
    }
}

impl std::error::Error for Closed {}

/// Talks to a [`Runtime`](crate::Runtime) from any thread. Get one with
/// [`Runtime::handle`](crate::Runtime::handle); clone it freely.
///
/// What it sends is handled on the loop's thread at the loop's next pass, even while the loop
/// is blocked in its poller; while no loop is running it waits for the next one. While a handle
/// exists the loop counts it as a way to be woken: `asyncio.run` keeps waiting for it instead
/// of returning when no task can otherwise make progress.
///
/// ```
/// use microloop_runtime::Runtime;
/// let rt = Runtime::builder().build()?;
/// let handle = rt.handle();
/// let worker = std::thread::spawn(move || handle.set_flag("go"));
/// rt.run_source(
///     "import asyncio, microloop\nasync def main():\n    await microloop.flag('go').wait()\nasyncio.run(main())\n",
///     "<wait>",
/// )?;
/// worker.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Handle {
    link: Arc<Link>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    pub(crate) fn new(link: Arc<Link>) -> Handle {
        link.handles.fetch_add(1, Ordering::AcqRel);
        Handle { link }
    }

    fn check(&self) -> Result<(), Closed> {
        if lock(&self.link.deadline).1 { Err(Closed) } else { Ok(()) }
    }

    /// Sets the ThreadSafeFlag that the script gets with `microloop.flag(name)`, waking the
    /// task waiting on it. Setting a flag no script has asked for yet creates it set.
    pub fn set_flag(&self, name: &str) -> Result<(), Closed> {
        self.check()?;
        self.link.flag(name).set();
        Ok(())
    }

    /// Calls a Python function on the loop's thread with `args`, as soon as the loop gets to it
    /// (`loop.call_soon_threadsafe`). `callable` names a global of `__main__`, or `module.name`
    /// for a function of an imported module.
    ///
    /// If the function returns a coroutine, it runs as a new task. An exception it raises, or
    /// a name that does not resolve, goes to the loop's exception handler (printed on stderr by
    /// default), as a callback's exception does in asyncio; the loop carries on.
    pub fn call_soon_threadsafe(&self, callable: &str, args: impl Into<Vec<Value>>) -> Result<(), Closed> {
        self.check()?;
        self.link.send(Message::Call(callable.to_owned(), args.into()));
        Ok(())
    }

    /// Stops `run_forever` after its current pass, as `loop.stop()` does from the script.
    pub fn stop(&self) -> Result<(), Closed> {
        self.check()?;
        self.link.send(Message::Stop);
        Ok(())
    }

    /// Raises KeyboardInterrupt in the script, as Ctrl-C does on a command line: in the loop if
    /// it is waiting, else between two bytecodes of whatever Python code is running. `finally`
    /// blocks and `except KeyboardInterrupt` run; if the exception ends the run, the run
    /// returns [`Error::Interrupted`](crate::Error::Interrupted). With no run in progress it
    /// interrupts the next one.
    pub fn interrupt(&self) -> Result<(), Closed> {
        self.check()?;
        self.link.interrupt();
        Ok(())
    }

    /// Interrupts the run at `deadline` (wall-clock time, also under a virtual clock), as
    /// [`interrupt`](Self::interrupt) does. A later deadline replaces an earlier one.
    pub fn interrupt_at(&self, deadline: Instant) -> Result<(), Closed> {
        self.check()?;
        self.link.set_deadline(deadline);
        Ok(())
    }

    /// Interrupts the run `after` from now.
    pub fn interrupt_after(&self, after: Duration) -> Result<(), Closed> {
        self.interrupt_at(Instant::now() + after)
    }

    /// Cancels a deadline set by [`interrupt_at`](Self::interrupt_at).
    pub fn clear_deadline(&self) {
        lock(&self.link.deadline).0 = None;
        self.link.deadline_changed.notify_all();
    }
}

impl Clone for Handle {
    fn clone(&self) -> Handle {
        Handle::new(self.link.clone())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.link.handles.fetch_sub(1, Ordering::AcqRel);
        // A loop that stayed awake only for this handle re-checks whether anything can wake it.
        self.link.notifier.notify();
    }
}
