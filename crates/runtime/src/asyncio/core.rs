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
//! | `IOQueue` (`queue_read`, `queue_write`, `remove`) | [`IoQueue`], reached through [`Scheduler::park_io`] and [`Scheduler::detach`] |
//! | `IOQueue.wait_io_event(dt)` | [`Scheduler::poll_sources`] (dt = 0) and [`Scheduler::wait_idle`] (dt > 0): every wake-up [`Source`] in the loop's order (pin edges, scheduled callbacks, ThreadSafeFlags, I/O readiness, host calls and messages; see `sources.rs`) |
//! | `_io_queue.map` not empty (something can still wake a task) | [`Scheduler::can_wake`]: a queued task, or a source whose [`Source::can_wake`] says so |
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
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use microloop_core::{Clock, Interest, Notifier, Reactor, Readiness, RunQueue, SystemClock, Token};
use rustpython_vm::{
    AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyInt},
    protocol::PyIterReturn,
};

use super::event::Flags;
use super::lock::PyLock;
use super::sources::{Callbacks, IoQueue, OwnSources, Registry, Source, SourceId, Sources};
use super::task::{PyTask, Wait};

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
    /// The `_thread` ident of the thread running the loop (when `running` is not 0).
    run_owner: Cell<u64>,
    /// The handler installed by `Loop.set_exception_handler`.
    pub exc_handler: RefCell<Option<PyObjectRef>>,
    /// Everything that can wake a task while none runs, asked before each step (see
    /// `sources.rs`).
    pub sources: Sources,
    /// The callbacks of `micropython.schedule` and interrupts (also one of `sources`).
    pub callbacks: Rc<Callbacks>,
    /// The ThreadSafeFlags that have a waiting task (also one of `sources`).
    pub flags: Rc<Flags>,
    /// The tasks waiting on descriptors (also one of `sources`).
    pub(crate) io: Rc<IoQueue>,
    /// The tasks scheduled and not finished, for the task monitor and `all_tasks()`.
    pub(crate) live: super::monitor::LiveTasks,
}

thread_local! {
    static SCHED: RefCell<Option<Rc<Scheduler>>> = const { RefCell::new(None) };
}

impl Scheduler {
    fn new<R>(clock: Arc<dyn Clock>, add_sources: impl FnOnce(&mut Registry) -> std::io::Result<R>) -> std::io::Result<(Self, R)> {
        let mut reactor = Reactor::new()?;
        let mut registry = Registry::new(&mut reactor);
        let added = add_sources(&mut registry)?;
        let (sources, OwnSources { callbacks, flags, io }) = registry.finish();
        let sched = Scheduler {
            queue: RefCell::new(RunQueue::new()),
            reactor: RefCell::new(reactor),
            readiness: RefCell::new(Vec::new()),
            clock,
            cur_task: RefCell::new(None),
            main_task: RefCell::new(None),
            stop: Cell::new(false),
            stop_task: RefCell::new(None),
            running: Cell::new(0),
            run_owner: Cell::new(0),
            exc_handler: RefCell::new(None),
            sources,
            callbacks,
            flags,
            io,
            live: super::monitor::LiveTasks::default(),
        };
        Ok((sched, added))
    }

    /// Installs a fresh scheduler on this thread with the given clock, dropping the old one.
    /// `add_sources` adds the wake-up sources besides the loop's own (see [`Registry`]); what
    /// it returns is returned. Must be called inside `Interpreter::enter` so dropped tasks can
    /// finalise.
    pub fn install<R>(clock: Arc<dyn Clock>, add_sources: impl FnOnce(&mut Registry) -> std::io::Result<R>) -> std::io::Result<R> {
        let (new, added) = Scheduler::new(clock, add_sources)?;
        let old = SCHED.with(|s| s.borrow_mut().replace(Rc::new(new)));
        drop(old);
        Ok(added)
    }

    /// Installs a scheduler with a runtime's sources, on the system clock and a simulated
    /// board, unless this thread has one.
    pub fn ensure_installed() -> std::io::Result<()> {
        if SCHED.with(|s| s.borrow().is_none()) {
            let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
            crate::install_scheduler(clock, None, None)?;
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
        self.sources.reset();
        self.stop.set(false);
        drop(queue);
    }

    pub fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    /// The time as the running task (or code outside tasks) reads it ([`Clock::read_us`]:
    /// polling a virtual clock moves it).
    pub fn read_us(&self) -> u64 {
        let reader = self.cur_task.borrow().as_ref().map_or(0, |t| t.get_id() as u64);
        self.clock.read_us(reader)
    }

    /// A handle other threads use to wake the poller.
    pub fn notifier(&self) -> Notifier {
        self.reactor.borrow().notifier()
    }

    pub fn current(&self) -> Option<PyRef<PyTask>> {
        self.cur_task.borrow().clone()
    }

    /// Has the source `id` asked before each step until it disarms itself.
    pub fn arm(&self, id: SourceId) {
        self.sources.arm(id);
    }

    /// Stops asking the source `id` before each step.
    pub fn disarm(&self, id: SourceId) {
        self.sources.disarm(id);
    }

    /// The source of type `T`, for the module that defines it (the pins, the host).
    pub fn source<T: Source>(&self) -> Option<&T> {
        self.sources.get::<T>()
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
                    self.flags.forget(&flag);
                }
            }
            Wait::Task(other, waiter) => other.remove_waiter(waiter),
            Wait::Gather(state) => state.clear_waiter(),
            Wait::Io(token) => self.io.remove(task, token),
            Wait::Source(id, what) => self.sources.cancel_wait(id, self, task, &what),
            Wait::Site(obj, key, site) => (site.remove)(&obj, key),
            Wait::SiteGranted(obj, site) => (site.give_back)(&obj, self),
        }
    }

    /// Parks `task` until the descriptor registered under `token` is ready for `interest`.
    pub fn park_io(&self, task: PyRef<PyTask>, token: Token, interest: Interest) {
        self.io.park(task, token, interest);
    }

    /// Wakes every task waiting on `token` (its stream is closing: they retry and see that).
    pub fn wake_io(&self, token: Token) {
        for (task, _) in self.io.take_all(token) {
            self.push_ready(task);
        }
    }

    /// How many read events the reactor has reported for `token` (see
    /// [`IoQueue::read_epoch`]).
    pub fn read_epoch(&self, token: Token) -> Option<u64> {
        self.io.read_epoch(token)
    }

    /// A step did something no announcement covers (a connect, an accept, a close, TLS): the
    /// next step's poll must look.
    pub fn io_touched(&self) {
        self.io.touch();
    }

    /// Starts the read events of a newly registered descriptor from zero.
    pub fn reset_read_epoch(&self, token: Token) {
        self.io.reset_read_epoch(token);
    }

    /// Hands each readiness event to the source that registered its descriptor, or to the
    /// [`IoQueue`] (streams and servers).
    fn dispatch_io(&self, events: &[Readiness]) {
        for ev in events {
            match self.sources.owner(ev.token) {
                Some(owner) => owner.ready(self, ev),
                None => self.io.ready(self, ev),
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
        self.callbacks.schedule(self, func, arg, vm)
    }

    /// Blocks the thread for `us` microseconds (`time.sleep_ms`). Pin changes and scheduled
    /// callbacks are still taken in when they fall due, as interrupts are on a board; a manual
    /// clock is moved forward instead of sleeping.
    pub fn block_for(&self, us: u64, vm: &VirtualMachine) -> PyResult<()> {
        let end = self.now_us().saturating_add(us);
        if crate::threads::in_thread() {
            // A `_thread` thread sleeps by letting the others run; the loop's sources are the
            // main thread's to take in.
            crate::threads::sleep_in_thread(end);
            return vm.check_signals();
        }
        if us == 0 && crate::threads::others_exist() {
            // `time.sleep(0)`: the other threads get a turn.
            crate::threads::wait_main(Some(end), None);
        }
        loop {
            self.sources.handle_pending(self, vm)?;
            let now = self.now_us();
            if now >= end {
                return Ok(());
            }
            let change = self.sources.next_deadline();
            let until = change.map_or(end, |t| t.clamp(now, end));
            if self.clock.is_manual() {
                if crate::threads::others_exist() {
                    // Virtual time moves to the first deadline of a thread or of this sleep
                    // (not while a thread runs without waiting; Ctrl-C still ends that).
                    crate::threads::wait_main(Some(until), None);
                    vm.check_signals()?;
                    continue;
                }
                self.clock.advance_to(until);
            } else {
                // Hardware edges and the host's interrupt wake the poller; tasks it wakes run
                // when the loop next does.
                self.poll(Some(Duration::from_micros(until - now)), vm)?;
            }
        }
    }

    /// Takes in what other threads did since the last look: every source's
    /// [`Source::take_notified`] (ThreadSafeFlags set, host calls completed, calls and stops
    /// sent through a handle, a pending interrupt raised), and prints the task dump a signal
    /// asked for.
    pub(super) fn take_wakeups(&self, vm: &VirtualMachine) -> PyResult<()> {
        super::monitor::take_dump_request(self, vm);
        self.sources.take_notified(self, vm)
    }

    /// Whether anything could make a task ready without a task running first.
    fn can_wake(&self) -> bool {
        !self.queue.borrow().is_empty() || self.sources.can_wake()
    }

    /// Waits for I/O or a wake-up. `timeout` None blocks until one arrives.
    pub(super) fn poll(&self, mut timeout: Option<Duration>, vm: &VirtualMachine) -> PyResult<()> {
        if timeout != Some(Duration::ZERO) {
            // About to block: nothing awaited last should be kept alive meanwhile.
            super::fastpath::AwaitWrapper::release_spare();
            if crate::threads::in_thread() {
                crate::threads::poll_in_thread(timeout);
                timeout = Some(Duration::ZERO);
            } else if crate::threads::others_exist() {
                // `_thread` threads run while the loop waits; it looks again after each round.
                let until = timeout.map(|d| self.now_us().saturating_add(d.as_micros() as u64));
                let fd = self.reactor.borrow().selector_fd();
                crate::threads::wait_main(until, Some(fd));
                timeout = Some(Duration::ZERO);
            }
        }
        let mut events = self.readiness.borrow_mut();
        self.io.polled();
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
        self.sources.idle();
        let next = timer.into_iter().chain(self.sources.next_deadline()).min();
        let clock = &self.clock;
        if clock.is_manual() {
            self.poll(Some(Duration::ZERO), vm)?;
            if !self.queue.borrow().has_due() {
                if crate::threads::in_thread() {
                    crate::threads::poll_in_thread(next.map(|t| Duration::from_micros(t.saturating_sub(clock.now_us()))));
                } else if crate::threads::others_exist() {
                    // `_thread` threads run; the clock moves to the first deadline of theirs or
                    // the loop's.
                    let fd = self.reactor.borrow().selector_fd();
                    crate::threads::wait_main(next, Some(fd));
                } else if let Some(deadline) = next {
                    clock.advance_to(deadline.max(clock.now_us()));
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
    /// `wait_io_event(0)`, with the callbacks its VM runs between bytecodes): each armed
    /// source in the loop's order (see `sources.rs`).
    fn poll_sources(&self, vm: &VirtualMachine) -> PyResult<()> {
        self.sources.wait_io_event(self, vm)
    }

    /// One loop per OS thread: `_thread` threads share it, and it runs in one of them at a time
    /// (two runs taking turns would each undo the other's state). RuntimeError when another
    /// thread runs it now.
    pub(crate) fn check_owner(&self, vm: &VirtualMachine) -> PyResult<()> {
        if self.running.get() > 0 && self.run_owner.get() != crate::threads::current_ident() {
            return Err(vm.new_runtime_error("the event loop is running in another thread"));
        }
        Ok(())
    }

    /// Runs tasks until `main` finishes, the host stops the loop, or (without `main`) for
    /// ever. Returns `main`'s value (None in the other cases), or an exception that escaped a
    /// task without being an `Exception` (KeyboardInterrupt, SystemExit), or `main`'s exception,
    /// or one raised by the exception handler.
    pub fn run(&self, main: Option<PyRef<PyTask>>, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
        let depth = self.running.get();
        self.check_owner(vm)?;
        self.run_owner.set(crate::threads::current_ident());
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
                // Without a main task (`run_until_complete()`), the run ends here.
                None if main.is_none() => return Ok(()),
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
        match task.take_wait() {
            // Cancelled after release() handed it the lock: the next waiter gets it.
            Wait::LockGranted(lock) if task.has_pending() => {
                super::lock::PyLock::cancelled_while_granted(&lock, &task, self, vm);
            }
            // The same for CPython's primitives (a Semaphore's unit, a Queue's wake-up).
            Wait::SiteGranted(obj, site) if task.has_pending() => (site.give_back)(&obj, self),
            _ => {}
        }
        task.handed.set(false);
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
        self.live.remove(task);
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
