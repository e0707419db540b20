//! The run loop: one run queue ordered by time, the wake-up sources polled before each step,
//! and the step that resumes one task.
//!
//! This is MicroPython's `extmod/asyncio/core.py` with the queues in Rust. One [`Scheduler`]
//! exists per VM thread. Side by side:
//!
//! | `core.py` | here |
//! |---|---|
//! | `_task_queue` (pairing heap keyed by `ticks()`) | [`Scheduler::queue`], a [`RunQueue`]: the same order, earliest key first, ties in push order |
//! | `_task_queue.push(t)` / `push(t, key)` | [`Scheduler::push_ready`] / [`Scheduler::park_for`] |
//! | `cur_task` | [`Scheduler::cur_task`] |
//! | `Task.data` (what the task waits on) | [`Wait`], one variant per queue; [`Scheduler::detach`] is every `data.remove(t)` |
//! | `Task.state` (who waits for the task) | the task's waiters ([`super::task::Waiter`]) and its outcome |
//! | `SingletonGenerator` / `sleep_ms` / `sleep` | [`super::funcs::PySleep`], [`sleep_ms_arg`], [`sleep_arg`] (same argument checks and errors) |
//! | `IOQueue.wait_io_event(dt)` | [`Scheduler::poll_sources`] (dt = 0) and [`Scheduler::wait_idle`] (dt > 0): scheduled callbacks, ThreadSafeFlags, I/O readiness, pin edges, host messages |
//! | `run_until_complete(main_task)` | [`Scheduler::run`] and `run_until_complete` below: poll, pop one task, resume it |
//! | the `except excs_all` block of `run_until_complete` | [`Scheduler::finish`] (wake the waiters, queue an unretrieved exception) and `report_unretrieved` |
//! | `Loop.run_forever` / `Loop.stop` / `_stopper` | `run_forever` runs until a stopper task ends; `stop()` pushes it |
//! | `Loop.call_exception_handler` | [`Scheduler::call_exception_handler`]: an exception it raises ends the run |
//!
//! Each step: take in every wake-up source without blocking (or, when the head of the queue is
//! not due yet, block in the poller until it is or until a source fires), then pop the head
//! and resume it once. A task that parks pushes itself nowhere: the primitive it awaits
//! records the wait and pushes it back later. When nothing is queued and nothing can wake a
//! task, `run` returns if there is no main task and otherwise waits in the poller, as
//! MicroPython waits for ever.
//!
//! `gather`, `wait_for`'s runner task and the ThreadSafeFlag take the steps MicroPython's
//! Python takes (see `funcs.rs` and `event.rs`), so programs print in MicroPython's order.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use microloop_core::pins::Pins;
use microloop_core::{Clock, Interest, Notifier, Reactor, Readiness, RunQueue, SystemClock, Token};
use rustpython_vm::{
    AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyInt},
    protocol::PyIterReturn,
};

use rustpython_vm::signal::UserSignalSender;

use super::event::PyThreadSafeFlag;
use super::lock::PyLock;
use super::task::{PyTask, Wait};
use crate::Value;
use crate::host::{Link, Message, PyHostCall, resolve_callable};
use crate::pinmods::{PinGlue, Soft};

/// The read epoch of a descriptor whose peer has closed or reset (see [`Scheduler::read_epoch`]).
const HUNG_UP: u64 = u64::MAX;

/// Most callbacks `micropython.schedule` queues before it raises, as on MicroPython ports.
const SCHEDULE_DEPTH: usize = 8;

/// Everything the run loop owns. Lives in a thread-local: the VM is single-threaded and a
/// runtime per thread must share nothing with another.
pub(crate) struct Scheduler {
    /// Every scheduled task, ordered by the time it becomes due (MicroPython's `_task_queue`):
    /// ready tasks under the time they were pushed, sleeping ones under their deadline.
    pub queue: RefCell<RunQueue<PyRef<PyTask>>>,
    /// The mio poller: the loop sleeps here when nothing is ready.
    pub reactor: RefCell<Reactor>,
    /// Events from the last poll, kept to reuse the allocation.
    readiness: RefCell<Vec<Readiness>>,
    /// Real or manual time.
    pub clock: Arc<dyn Clock>,
    /// The task being resumed right now (MicroPython's `cur_task`).
    pub cur_task: RefCell<Option<PyRef<PyTask>>>,
    /// The task whose end ends `run_until_complete`; its exception is never reported.
    pub main_task: RefCell<Option<PyRef<PyTask>>>,
    /// Set by the host's `stop()`; ends the run before the next step.
    pub stop: Cell<bool>,
    /// `run_forever`'s stopper task until `Loop.stop()` pushes it (MicroPython's `_stop_task`).
    pub stop_task: RefCell<Option<PyRef<PyTask>>>,
    /// How many run methods are on the stack (a task may call `asyncio.run` again, as on
    /// MicroPython, which runs a nested loop).
    pub running: Cell<usize>,
    /// The handler installed by `Loop.set_exception_handler`.
    pub exc_handler: RefCell<Option<PyObjectRef>>,
    /// Callbacks queued by `micropython.schedule` and pin interrupts, run between task steps.
    pub scheduled: RefCell<VecDeque<Soft>>,
    /// ThreadSafeFlags that have a waiting task; scanned when another thread notifies.
    pub flags: RefCell<Vec<PyRef<PyThreadSafeFlag>>>,
    /// Set when the loop's own thread set a flag that has a waiter: the waiter is pushed at
    /// the next poll, before the next step, as MicroPython's poller finds the flag readable.
    pub flag_set: Cell<bool>,
    /// Tasks waiting for readiness, indexed by reactor token, with what they wait for.
    io_waiters: RefCell<Vec<IoWaiters>>,
    /// How many tasks wait in `io_waiters`: the loop polls for I/O only when some do.
    io_waiting: Cell<usize>,
    /// Read (or error) events seen per reactor token, whether or not a task waited: a stream
    /// whose last read drained its socket reads again only once this moves on.
    read_epochs: RefCell<Vec<u64>>,
    /// The pin bank and the Python side of its interrupts.
    pub pins: RefCell<PinGlue>,
    /// The reactor token of the pin backend's event descriptor, if it has one.
    pins_token: Option<Token>,
    /// Set when the pin backend's descriptor turned readable: edges wait to be read.
    pins_ready: Cell<bool>,
    /// What this runtime shares with the host's other threads.
    pub link: Arc<Link>,
    /// Async host calls that a task awaits; scanned when another thread notifies.
    host_calls: RefCell<Vec<PyRef<PyHostCall>>>,
    /// The flag objects `microloop.flag(name)` gave out, one per name.
    named_flags: RefCell<HashMap<String, PyRef<PyThreadSafeFlag>>>,
    /// Calls the host queued with `call_soon_threadsafe`, run at the next pass.
    calls: RefCell<VecDeque<(String, Vec<Value>)>>,
}

/// The tasks parked on one descriptor, each with the readiness it waits for.
type IoWaiters = Vec<(PyRef<PyTask>, Interest)>;

thread_local! {
    static SCHED: RefCell<Option<Rc<Scheduler>>> = const { RefCell::new(None) };
}

impl Scheduler {
    fn new(clock: Arc<dyn Clock>, pins: Pins, signal: Option<UserSignalSender>) -> std::io::Result<Self> {
        let mut reactor = Reactor::new()?;
        let link = Link::new(reactor.notifier(), signal);
        let pins_token = pins.event_fd().map(|fd| reactor.register(fd, Interest::Read)).transpose()?;
        Ok(Scheduler {
            queue: RefCell::new(RunQueue::new()),
            reactor: RefCell::new(reactor),
            readiness: RefCell::new(Vec::new()),
            clock,
            cur_task: RefCell::new(None),
            main_task: RefCell::new(None),
            stop: Cell::new(false),
            stop_task: RefCell::new(None),
            running: Cell::new(0),
            exc_handler: RefCell::new(None),
            scheduled: RefCell::new(VecDeque::new()),
            flags: RefCell::new(Vec::new()),
            flag_set: Cell::new(false),
            io_waiters: RefCell::new(Vec::new()),
            io_waiting: Cell::new(0),
            read_epochs: RefCell::new(Vec::new()),
            pins: RefCell::new(PinGlue::new(pins)),
            pins_token,
            pins_ready: Cell::new(false),
            link,
            host_calls: RefCell::new(Vec::new()),
            named_flags: RefCell::new(HashMap::new()),
            calls: RefCell::new(VecDeque::new()),
        })
    }

    /// Installs a fresh scheduler on this thread with the given clock and pin bank, dropping
    /// the old one, and returns its link to other threads. `signal` reaches the interpreter
    /// between bytecodes, for interrupts. Must be called inside `Interpreter::enter` so dropped
    /// tasks can finalise.
    pub fn install(clock: Arc<dyn Clock>, pins: Pins, signal: Option<UserSignalSender>) -> std::io::Result<Arc<Link>> {
        let new = Rc::new(Scheduler::new(clock, pins, signal)?);
        let link = new.link.clone();
        let old = SCHED.with(|s| s.borrow_mut().replace(new));
        drop(old);
        Ok(link)
    }

    /// Installs a scheduler on the system clock unless this thread has one.
    pub fn ensure_installed() -> std::io::Result<()> {
        if SCHED.with(|s| s.borrow().is_none()) {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
            Scheduler::install(clock.clone(), Pins::simulated(clock), None)?;
        }
        Ok(())
    }

    /// Removes this thread's scheduler, dropping every task it holds.
    pub fn uninstall() {
        let old = SCHED.with(|s| s.borrow_mut().take());
        drop(old);
    }

    /// Forgets every queued task (MicroPython's `new_event_loop`, which keeps the exception
    /// handler).
    pub fn reset(&self) {
        let queue = std::mem::take(&mut *self.queue.borrow_mut());
        let flags = std::mem::take(&mut *self.flags.borrow_mut());
        let io = std::mem::take(&mut *self.io_waiters.borrow_mut());
        let host = std::mem::take(&mut *self.host_calls.borrow_mut());
        for call in &host {
            // Nobody will await these any more: the host may stop working on them.
            call.abandon();
        }
        self.io_waiting.set(0);
        self.stop.set(false);
        drop((queue, flags, io, host));
    }

    pub fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// A handle other threads use to wake the poller.
    pub fn notifier(&self) -> Notifier {
        self.reactor.borrow().notifier()
    }

    pub fn current(&self) -> Option<PyRef<PyTask>> {
        self.cur_task.borrow().clone()
    }

    /// Pushes `task` to the run queue as due now (MicroPython's `_task_queue.push(task)`).
    pub fn push_ready(&self, task: PyRef<PyTask>) {
        task.set_wait(Wait::Ready);
        let mut queue = self.queue.borrow_mut();
        // The time is read only when a timer could be ordered against it (see RunQueue).
        let now = if queue.needs_now() { self.now_us() } else { 0 };
        queue.push_now(now, task);
    }

    /// Detaches `task` from whatever it waits on and makes it ready.
    pub fn wake(&self, task: PyRef<PyTask>) {
        self.detach(&task);
        self.push_ready(task);
    }

    /// Undoes the task's current wait: removes it from the queue, timer or waiter list it sits
    /// in. This is the one cancellation rule: every primitive records its wait on the task as a
    /// [`Wait`], and this function is the only place that takes a task back out.
    pub fn detach(&self, task: &PyRef<PyTask>) {
        match task.take_wait() {
            Wait::None | Wait::Ready => {}
            Wait::Timer(key, _) => {
                self.queue.borrow_mut().remove(key);
            }
            Wait::Event(ev, key) => ev.remove_waiter(key),
            Wait::Lock(lock, key) => lock.remove_waiter(key),
            Wait::LockGranted(lock) => PyLock::pass_on(&lock, self),
            Wait::Flag(flag) => {
                flag.remove_waiter(task);
                if flag.waiter().is_none() {
                    self.flags.borrow_mut().retain(|f| !f.is(&flag));
                }
            }
            Wait::Task(other, waiter) => other.remove_waiter(waiter),
            Wait::Gather(state) => state.clear_waiter(),
            Wait::Io(token) => {
                let mut io = self.io_waiters.borrow_mut();
                if let Some(list) = io.get_mut(token.0) {
                    let before = list.len();
                    list.retain(|(t, _)| !t.is(task));
                    self.io_waiting.set(self.io_waiting.get() - (before - list.len()));
                }
            }
            Wait::Host(call) => {
                // Completion wakes a task without detaching it, so reaching here means the
                // task is being cancelled: the host hears of it.
                call.cancel_wait(task);
                self.host_calls.borrow_mut().retain(|c| !c.is(&call));
            }
        }
    }

    /// Parks `task` until the host completes `call`.
    pub(crate) fn park_host(&self, task: PyRef<PyTask>, call: PyRef<PyHostCall>) {
        let mut calls = self.host_calls.borrow_mut();
        if !calls.iter().any(|c| c.is(&call)) {
            calls.push(call.clone());
        }
        task.set_wait(Wait::Host(call));
    }

    /// The flag object for `microloop.flag(name)`, shared with the host under that name.
    pub(crate) fn named_flag(&self, name: &str, vm: &VirtualMachine) -> PyRef<PyThreadSafeFlag> {
        use rustpython_vm::PyPayload;
        self.named_flags
            .borrow_mut()
            .entry(name.to_owned())
            .or_insert_with(|| PyThreadSafeFlag::from_shared(self.link.flag(name)).into_ref(&vm.ctx))
            .clone()
    }

    /// Parks `task` until the descriptor registered under `token` is ready for `interest`.
    pub fn park_io(&self, task: PyRef<PyTask>, token: Token, interest: Interest) {
        let mut io = self.io_waiters.borrow_mut();
        if io.len() <= token.0 {
            io.resize_with(token.0 + 1, Vec::new);
        }
        io[token.0].push((task.clone(), interest));
        self.io_waiting.set(self.io_waiting.get() + 1);
        task.set_wait(Wait::Io(token));
    }

    /// Wakes every task waiting on `token` (its stream is closing: they retry and see that).
    pub fn wake_io(&self, token: Token) {
        let list = self.io_waiters.borrow_mut().get_mut(token.0).map(std::mem::take).unwrap_or_default();
        self.io_waiting.set(self.io_waiting.get() - list.len());
        for (task, _) in list {
            self.push_ready(task);
        }
    }

    /// How many read events the reactor has reported for `token`, or None once it reported
    /// an error or hang-up: the peer's last bytes and its close can arrive as one event, so a
    /// short read no longer means the socket is drained, and reads must ask the kernel.
    pub fn read_epoch(&self, token: Token) -> Option<u64> {
        let epoch = self.read_epochs.borrow().get(token.0).copied().unwrap_or(0);
        (epoch != HUNG_UP).then_some(epoch)
    }

    /// Starts the read events of a newly registered descriptor from zero.
    pub fn reset_read_epoch(&self, token: Token) {
        if let Some(epoch) = self.read_epochs.borrow_mut().get_mut(token.0) {
            *epoch = 0;
        }
    }

    /// Wakes the tasks whose readiness arrived.
    fn dispatch_io(&self, events: &[Readiness]) {
        for ev in events {
            if Some(ev.token) == self.pins_token {
                self.pins_ready.set(true);
                continue;
            }
            if ev.readable || ev.error_or_hup {
                let mut epochs = self.read_epochs.borrow_mut();
                if epochs.len() <= ev.token.0 {
                    epochs.resize(ev.token.0 + 1, 0);
                }
                let epoch = &mut epochs[ev.token.0];
                *epoch = if ev.error_or_hup { HUNG_UP } else { epoch.saturating_add(1) };
            }
            let woken: Vec<PyRef<PyTask>> = {
                let mut io = self.io_waiters.borrow_mut();
                let Some(list) = io.get_mut(ev.token.0) else { continue };
                let mut woken = Vec::new();
                list.retain(|(task, interest)| {
                    let ready = ev.error_or_hup
                        || match interest {
                            Interest::Read => ev.readable,
                            Interest::Write => ev.writable,
                            Interest::ReadWrite => ev.readable || ev.writable,
                        };
                    if ready {
                        woken.push(task.clone());
                    }
                    !ready
                });
                woken
            };
            self.io_waiting.set(self.io_waiting.get() - woken.len());
            for task in woken {
                self.push_ready(task);
            }
        }
    }

    /// Parks the current task until `delay_us` from now (0: due now, behind the tasks queued
    /// before it).
    pub fn park_for(&self, task: PyRef<PyTask>, delay_us: u64) {
        if delay_us == 0 {
            self.push_ready(task);
        } else {
            let deadline = self.now_us().saturating_add(delay_us);
            let key = self.queue.borrow_mut().push_at(deadline, task.clone());
            task.set_wait(Wait::Timer(key, deadline));
        }
    }

    /// Adds a callback for `micropython.schedule`.
    pub fn schedule(&self, func: PyObjectRef, arg: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let mut q = self.scheduled.borrow_mut();
        if q.len() >= SCHEDULE_DEPTH {
            return Err(vm.new_runtime_error("schedule queue full"));
        }
        q.push_back(Soft { func, args: vec![arg], irq_line: None });
        Ok(())
    }

    /// Runs the callbacks queued by `micropython.schedule` and pin interrupts, oldest first,
    /// after taking in pin changes that are due. An exception from one is printed (MicroPython
    /// prints it and carries on) and does not stop the rest. Callbacks queued while these run
    /// wait for the next call, so one that schedules itself again cannot starve the tasks.
    pub fn run_scheduled(&self, vm: &VirtualMachine) -> PyResult<()> {
        self.pump_pins(vm)?;
        let queued = self.scheduled.borrow().len();
        for _ in 0..queued {
            let next = self.scheduled.borrow_mut().pop_front();
            let Some(soft) = next else { return Ok(()) };
            if let Err(e) = soft.func.call(soft.args, vm) {
                if escapes_loop(&e, vm) {
                    return Err(e);
                }
                self.report_soft_error(soft.irq_line, &e, vm);
            }
        }
        Ok(())
    }

    /// Takes in the pin changes that are due (stimulus, hardware edges, the script's own writes)
    /// and queues the interrupt handlers they fire.
    pub fn pump_pins(&self, vm: &VirtualMachine) -> PyResult<()> {
        let mut glue = self.pins.borrow_mut();
        let due = self.pins_ready.replace(false) || glue.pins.next_change_us().is_some_and(|t| t <= self.now_us());
        if due {
            glue.pins.poll().map_err(|e| crate::pinmods::pin_error(e, vm))?;
        }
        if glue.pins.has_irqs() {
            let fired = glue.queue_irqs();
            drop(glue);
            self.scheduled.borrow_mut().extend(fired);
        }
        Ok(())
    }

    /// Blocks the thread for `us` microseconds (`time.sleep_ms`). Pin changes and scheduled
    /// callbacks are still taken in when they fall due, as interrupts are on a board; a manual
    /// clock is moved forward instead of sleeping.
    pub fn block_for(&self, us: u64, vm: &VirtualMachine) -> PyResult<()> {
        let end = self.now_us().saturating_add(us);
        loop {
            self.run_scheduled(vm)?;
            let now = self.now_us();
            if now >= end {
                return Ok(());
            }
            let change = self.pins.borrow().pins.next_change_us();
            let until = change.map_or(end, |t| t.clamp(now, end));
            if self.clock.is_manual() {
                self.clock.advance_to(until);
            } else {
                // Hardware edges and the host's interrupt wake the poller; tasks it wakes run
                // when the loop next does.
                self.poll(Some(Duration::from_micros(until - now)), vm)?;
            }
        }
    }

    /// Takes in what other threads did since the last look: ThreadSafeFlags set, host calls
    /// completed, calls and stops sent through a handle, and raises a pending interrupt.
    fn take_wakeups(&self, vm: &VirtualMachine) -> PyResult<()> {
        self.wake_flags();
        if !self.host_calls.borrow().is_empty() {
            // Host futures run no Python, but they are polled outside the borrow all the same.
            let calls = self.host_calls.borrow().clone();
            for call in &calls {
                call.drive();
            }
            let mut woken = Vec::new();
            self.host_calls.borrow_mut().retain(|call| match call.completed_waiter() {
                Some(task) => {
                    woken.push(task);
                    false
                }
                None => call.has_waiter(),
            });
            for task in woken {
                self.push_ready(task);
            }
        }
        for message in self.link.take_messages() {
            match message {
                Message::Call(name, args) => self.calls.borrow_mut().push_back((name, args)),
                Message::Stop => self.stop.set(true),
            }
        }
        self.link.take_interrupt(vm)
    }

    /// Pushes the waiters of the ThreadSafeFlags that are set, in the order they began waiting.
    fn wake_flags(&self) {
        self.flag_set.set(false);
        let flags = self.flags.borrow().clone();
        for flag in flags {
            if let Some(task) = flag.waiter().filter(|_| flag.is_set()) {
                self.wake(task);
            }
        }
    }

    /// Runs the calls the host queued with `call_soon_threadsafe`, oldest first. A coroutine
    /// one returns becomes a task; an exception goes to the exception handler.
    fn run_calls(&self, vm: &VirtualMachine) -> PyResult<()> {
        loop {
            let next = self.calls.borrow_mut().pop_front();
            let Some((name, args)) = next else { return Ok(()) };
            let args: Vec<PyObjectRef> = args.iter().map(|a| a.to_python(vm)).collect();
            let result = resolve_callable(&name, vm).and_then(|f| f.call(args, vm)).and_then(|ret| {
                if ret.downcast_ref::<rustpython_vm::builtins::PyCoroutine>().is_some() {
                    PyTask::spawn(ret, vm)?;
                }
                Ok(())
            });
            let Err(exc) = result else { continue };
            if escapes_loop(&exc, vm) {
                return Err(exc);
            }
            let context = vm.ctx.new_dict();
            let message = vm.ctx.new_str(format!("Exception in callback {name}"));
            let reported = context
                .set_item("message", message.into(), vm)
                .and_then(|_| context.set_item("exception", exc.into(), vm))
                .and_then(|_| self.call_exception_handler(context.into(), vm));
            if let Err(e) = reported {
                crate::traceback::print_exception(vm, &e, None);
            }
        }
    }

    /// Whether anything could make a task ready without a task running first.
    fn can_wake(&self) -> bool {
        !self.queue.borrow().is_empty()
            || !self.flags.borrow().is_empty()
            || self.io_waiting.get() > 0
            || !self.host_calls.borrow().is_empty()
            || self.link.has_handles()
            || self.pins.borrow().pins.may_interrupt()
    }

    /// Waits for I/O or a wake-up. `timeout` None blocks until one arrives.
    fn poll(&self, timeout: Option<Duration>, vm: &VirtualMachine) -> PyResult<()> {
        if timeout != Some(Duration::ZERO) {
            // About to block: nothing awaited last should be kept alive meanwhile.
            super::fastpath::AwaitWrapper::release_spare();
        }
        let mut events = self.readiness.borrow_mut();
        self.reactor
            .borrow_mut()
            .poll(timeout, &mut events)
            .map_err(|e| vm.new_os_error(e.to_string()))?;
        self.dispatch_io(&events);
        drop(events);
        // The notification is taken before anything can raise: a Notifier wakes the poller
        // only when no notification is pending, so one left pending would mute the rest.
        let woken = if self.reactor.borrow().take_notified() { self.take_wakeups(vm) } else { Ok(()) };
        vm.check_signals()?;
        woken
    }

    /// Blocks until the next deadline, a notification or I/O, when no task is due.
    fn wait_idle(&self, vm: &VirtualMachine) -> PyResult<()> {
        let timer = self.queue.borrow().next_due();
        let pin_change = {
            let mut glue = self.pins.borrow_mut();
            glue.pins.idle();
            glue.pins.next_change_us()
        };
        let next = match (timer, pin_change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let clock = &self.clock;
        if clock.is_manual() {
            self.poll(Some(Duration::ZERO), vm)?;
            if !self.queue.borrow().has_due() {
                if let Some(deadline) = next {
                    clock.advance_to(deadline);
                } else {
                    self.poll(None, vm)?;
                }
            }
            return Ok(());
        }
        let timeout = next.map(|d| Duration::from_micros(d.saturating_sub(clock.now_us())));
        self.poll(timeout, vm)
    }

    /// Takes in every wake-up source before a step, without blocking (MicroPython's
    /// `wait_io_event(0)`, with the callbacks its VM runs between bytecodes): scheduled
    /// callbacks and pin interrupts, ThreadSafeFlags set, I/O readiness, the host's
    /// messages and calls.
    fn poll_sources(&self, vm: &VirtualMachine) -> PyResult<()> {
        let pins_due = {
            let glue = self.pins.borrow();
            self.pins_ready.get() || glue.pins.has_irqs() || glue.pins.next_change_us().is_some()
        };
        if pins_due || !self.scheduled.borrow().is_empty() {
            self.run_scheduled(vm)?;
        }
        if self.flag_set.get() {
            self.wake_flags();
        }
        if self.io_waiting.get() > 0 || self.pins_token.is_some() {
            self.poll(Some(Duration::ZERO), vm)?;
        } else if self.reactor.borrow().take_notified() {
            self.take_wakeups(vm)?;
        }
        if !self.calls.borrow().is_empty() {
            self.run_calls(vm)?;
        }
        Ok(())
    }

    /// Runs tasks until `main` finishes, the host stops the loop, or (without `main`) for
    /// ever. Returns `main`'s value (None in the other cases), or an exception that escaped a
    /// task without being an `Exception` (KeyboardInterrupt, SystemExit), or `main`'s exception,
    /// or one raised by the exception handler.
    pub fn run(&self, main: Option<PyRef<PyTask>>, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
        let depth = self.running.get();
        self.running.set(depth + 1);
        if depth == 0 {
            self.stop.set(false);
        }
        let prev_main = self.main_task.replace(main.clone());
        let prev_cur = self.cur_task.borrow_mut().take();
        let result = self.run_until_complete(main.as_ref(), vm);
        *self.cur_task.borrow_mut() = prev_cur;
        if depth == 0 {
            super::fastpath::AwaitWrapper::release_spare();
        }
        *self.main_task.borrow_mut() = prev_main;
        self.running.set(depth);
        result?;
        match main {
            Some(task) if task.is_done() => task.take_result(vm).map(Some),
            _ => Ok(None),
        }
    }

    /// MicroPython's `run_until_complete`: before each step, take in every wake-up source
    /// (blocking until the head of the run queue is due when it is not), then pop the head and
    /// resume it.
    fn run_until_complete(&self, main: Option<&PyRef<PyTask>>, vm: &VirtualMachine) -> PyResult<()> {
        let main_done = || main.is_some_and(|m| m.is_done());
        loop {
            if main_done() || self.stop.get() {
                return Ok(());
            }
            self.poll_sources(vm)?;
            let next = {
                let mut queue = self.queue.borrow_mut();
                let now = if queue.needs_now() { self.now_us() } else { 0 };
                queue.pop_due(now)
            };
            match next {
                Some(task) => self.step(task, vm)?,
                None if self.can_wake() => self.wait_idle(vm)?,
                // What a thread sent just before letting go of its handle is taken in first;
                // only then is the loop sure nothing can wake it.
                None if self.reactor.borrow().take_notified() => self.take_wakeups(vm)?,
                // Nothing can ever wake a task. MicroPython keeps waiting while the main task
                // has not finished (it returns only when there is no main task); so does
                // microloop, asleep in the poller, where Ctrl-C or the host can still end it.
                None if main.is_none() && self.running.get() > 1 => return Ok(()),
                None => self.poll(None, vm)?,
            }
        }
    }

    /// Resumes one task: sends None into its coroutine, or throws its pending exception.
    fn step(&self, task: PyRef<PyTask>, vm: &VirtualMachine) -> PyResult<()> {
        if task.is_done() {
            // A finished task is queued once more only to report an unretrieved exception.
            return self.report_unretrieved(&task, vm);
        }
        if let Wait::LockGranted(lock) = task.take_wait() {
            if task.has_pending() {
                // Cancelled after release() handed it the lock: the next waiter gets it.
                super::lock::PyLock::pass_on(&lock, self);
            }
        }
        *self.cur_task.borrow_mut() = Some(task.clone());
        let outcome = task.resume(vm);
        self.cur_task.borrow_mut().take();
        match outcome {
            // The task parked itself somewhere, or yielded without parking: then, as in
            // MicroPython, it waits until something pushes it.
            Ok(PyIterReturn::Return(_)) => Ok(()),
            Ok(PyIterReturn::StopIteration(value)) => {
                self.finish(&task, Ok(value.unwrap_or_else(|| vm.ctx.none())), vm);
                Ok(())
            }
            Err(exc) => {
                let escapes = escapes_loop(&exc, vm);
                self.finish(&task, Err(exc.clone()), vm);
                if escapes { Err(exc) } else { Ok(()) }
            }
        }
    }

    /// Records a task's outcome and wakes whoever waits for it, in the order they began
    /// waiting. An exception nobody waits for is reported one step later, from the run queue,
    /// unless somebody awaits the task meanwhile (MicroPython's "Task exception wasn't
    /// retrieved").
    pub fn finish(&self, task: &PyRef<PyTask>, result: Result<PyObjectRef, PyBaseExceptionRef>, vm: &VirtualMachine) {
        let report = matches!(&result, Err(e) if !is_cancelled(e, vm) && !escapes_loop(e, vm));
        task.set_done(result);
        let is_main = self.main_task.borrow().as_ref().is_some_and(|m| m.is(task));
        let mut awaited = is_main;
        for waiter in task.take_waiters() {
            awaited = true;
            waiter.notify(self, task, vm);
        }
        if awaited {
            task.mark_retrieved();
        } else if report {
            self.push_ready(task.clone());
        }
    }

    /// Calls the exception handler for a task whose exception nobody retrieved. An exception
    /// the handler raises ends the run, as in MicroPython.
    fn report_unretrieved(&self, task: &PyRef<PyTask>, vm: &VirtualMachine) -> PyResult<()> {
        if task.retrieved() {
            return Ok(());
        }
        task.mark_retrieved();
        let Some(exc) = task.exception() else { return Ok(()) };
        let context = vm.ctx.new_dict();
        let set = |k: &str, v: PyObjectRef| context.set_item(k, v, vm);
        set("message", vm.ctx.new_str("Task exception wasn't retrieved").into())?;
        set("exception", exc.into())?;
        set("future", task.clone().into())?;
        self.call_exception_handler(context.into(), vm)
    }

    /// Calls the installed handler as `handler(loop, context)`, or the default one.
    pub fn call_exception_handler(&self, context: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let handler = self.exc_handler.borrow().clone();
        match handler {
            Some(h) => h.call((super::loop_object(vm)?, context), vm).map(drop),
            None => default_exception_handler(&context, vm),
        }
    }
}

/// Prints what MicroPython's default handler prints, on stderr: the message, the future with
/// its coroutine, and the exception's traceback.
pub(crate) fn default_exception_handler(context: &PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
    let message = context.get_item("message", vm)?.str(vm)?;
    let mut text = format!("{message}\n");
    if let Ok(future) = context.get_item("future", vm) {
        let coro = future.get_attr("coro", vm).and_then(|c| c.repr(vm));
        let coro = coro.map(|c| c.to_string()).unwrap_or_default();
        text.push_str(&format!("future: {} coro= {}\n", future.repr(vm)?, coro));
    }
    crate::traceback::write_stderr(vm, &text);
    let exc = context.get_item("exception", vm).ok();
    if let Some(Ok(exc)) = exc.map(|e| e.downcast::<rustpython_vm::builtins::PyBaseException>()) {
        crate::traceback::print_exception(vm, &exc, None);
    }
    Ok(())
}

/// Runs `f` on this thread's scheduler if one is installed and not being torn down (for
/// destructors, which may run at any point).
pub(crate) fn with_sched<R>(f: impl FnOnce(&Scheduler) -> R) -> Option<R> {
    let s = SCHED.try_with(|s| s.try_borrow().ok().and_then(|s| s.clone())).ok().flatten()?;
    Some(f(&s))
}

/// This thread's scheduler. The asyncio module installs one when it is imported, so every
/// caller reached from Python finds it.
pub(crate) fn sched() -> Rc<Scheduler> {
    SCHED.with(|s| {
        if let Some(s) = s.borrow().as_ref() {
            return s.clone();
        }
        drop(Scheduler::ensure_installed());
        s.borrow().clone().expect("the asyncio scheduler could not create its poller")
    })
}

/// Whether `exc` is an asyncio CancelledError.
pub(crate) fn is_cancelled(exc: &PyBaseExceptionRef, vm: &VirtualMachine) -> bool {
    exc.fast_isinstance(&super::cancelled_error_type(vm))
}

/// Exceptions that end the loop instead of the task: anything that is neither an `Exception`
/// nor a CancelledError (KeyboardInterrupt, SystemExit, GeneratorExit), as MicroPython does.
pub(crate) fn escapes_loop(exc: &PyBaseExceptionRef, vm: &VirtualMachine) -> bool {
    !exc.fast_isinstance(vm.ctx.exceptions.exception_type) && !is_cancelled(exc, vm)
}

/// Converts a delay in seconds (int or float) to microseconds; negatives count as zero.
pub(crate) fn seconds_to_us(t: &PyObjectRef, vm: &VirtualMachine) -> PyResult<u64> {
    // Whole seconds (`sleep(0)` above all) skip the float conversion, which allocates.
    if let Some(secs) = t.downcast_ref::<PyInt>().and_then(|i| i.try_to_primitive::<i64>(vm).ok()) {
        return Ok((secs.max(0) as u64).saturating_mul(1_000_000));
    }
    let secs: f64 = t.try_float(vm)?.to_f64();
    if secs.is_nan() {
        return Err(vm.new_value_error("sleep length must be a number"));
    }
    Ok((secs * 1e6).max(0.0).min(u64::MAX as f64 / 2.0) as u64)
}

/// Half of MicroPython's ticks period (2**62 on its unix port, as in `time.ticks_*`): the
/// largest interval `ticks_add` accepts is one less.
const TICKS_HALF_PERIOD: i64 = 1 << 61;

/// MicroPython's `sleep_ms(t)` argument check, `ticks_add(ticks(), max(0, t))`: the delay in
/// milliseconds, or the error MicroPython raises for it.
pub(crate) fn sleep_ms_arg(t: &PyObjectRef, vm: &VirtualMachine) -> PyResult<u64> {
    use rustpython_vm::builtins::PyFloat;
    if let Some(i) = t.downcast_ref::<PyInt>() {
        if i.as_bigint() < &0.into() {
            return Ok(0);
        }
        let ms: i64 = i
            .try_to_primitive(vm)
            .map_err(|_| vm.new_overflow_error("overflow converting long int to machine word"))?;
        if ms >= TICKS_HALF_PERIOD {
            return Err(vm.new_overflow_error("ticks interval overflow"));
        }
        return Ok(ms as u64);
    }
    if let Some(f) = t.downcast_ref::<PyFloat>() {
        if f.to_f64() <= 0.0 {
            return Ok(0);
        }
        return Err(vm.new_type_error("can't convert float to int"));
    }
    Err(vm.new_type_error(format!("can't convert {} to int", t.class().name())))
}

/// MicroPython's `sleep(t)`, `sleep_ms(int(t * 1000))`: the delay in whole milliseconds, or the
/// error MicroPython raises for it.
pub(crate) fn sleep_arg(t: &PyObjectRef, vm: &VirtualMachine) -> PyResult<u64> {
    use rustpython_vm::builtins::PyFloat;
    // Whole seconds (`sleep(0)` above all) skip the multiplication, which allocates.
    if let Some(secs) = t.downcast_ref::<PyInt>().and_then(|i| i.try_to_primitive::<i64>(vm).ok()) {
        if secs <= 0 {
            return Ok(0);
        }
        if let Some(ms) = secs.checked_mul(1000) {
            return sleep_ms_arg(&vm.ctx.new_int(ms).into(), vm);
        }
    }
    if let Some(f) = t.downcast_ref::<PyFloat>() {
        let ms = f.to_f64() * 1000.0;
        if ms.is_nan() {
            return Err(vm.new_value_error("can't convert NaN to int"));
        }
        if ms.is_infinite() {
            return Err(vm.new_overflow_error("can't convert inf to int"));
        }
        if ms.abs() >= 9.223_372_036_854_775_807e18 {
            return Err(vm.new_overflow_error("overflow converting long int to machine word"));
        }
        return sleep_ms_arg(&vm.ctx.new_int(ms.trunc() as i64).into(), vm);
    }
    let thousand: PyObjectRef = vm.ctx.new_int(1000).into();
    let product = vm._mul(t, &thousand)?;
    let ms = product.try_int(vm)?;
    sleep_ms_arg(&ms.into(), vm)
}

/// Raises RuntimeError unless a task is running: awaiting asyncio primitives needs one.
pub(crate) fn current_task(vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
    sched().current().ok_or_else(no_running_loop(vm))
}

/// Runs `f` with the scheduler and the running task, borrowed rather than cloned (the sleep
/// path runs this twice per task switch). `f` must not run Python code. Raises RuntimeError
/// unless a task is running.
pub(crate) fn with_current<R>(vm: &VirtualMachine, f: impl FnOnce(&Scheduler, &PyRef<PyTask>) -> R) -> PyResult<R> {
    SCHED.with(|cell| {
        let sched = cell.borrow();
        let sched = sched.as_deref().ok_or_else(no_running_loop(vm))?;
        let task = sched.cur_task.borrow();
        let task = task.as_ref().ok_or_else(no_running_loop(vm))?;
        Ok(f(sched, task))
    })
}

fn no_running_loop(vm: &VirtualMachine) -> impl FnOnce() -> PyBaseExceptionRef + '_ {
    || vm.new_runtime_error("no running event loop")
}
