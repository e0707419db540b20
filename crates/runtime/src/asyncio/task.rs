//! `Task`: a coroutine scheduled on the loop, and the record of what it waits on.
//!
//! Mirrors MicroPython's `extmod/asyncio/task.py`. Where MicroPython overloads `Task.state` and
//! `Task.data`, this module uses [`TaskState`], [`Wait`] and [`Waiter`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use microloop_core::{TimerKey, WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyAsyncGen, PyBaseExceptionRef, PyCoroutine, PyGenerator, PyType, PyTypeRef},
    function::{FuncArgs, OptionalArg},
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, Representable, SelfIter},
};

use super::core::{Scheduler, current_task, sched};
use super::event::{PyEvent, PyThreadSafeFlag};
use super::funcs::GatherState;
use super::lock::PyLock;

/// What a task is waiting on: MicroPython's `Task.data` while the task is parked. Every
/// primitive that parks a task records it here, and [`Scheduler::detach`] undoes exactly this
/// record, so cancelling a task leaves no trace of it in any queue.
#[derive(Debug, Default)]
pub(crate) enum Wait {
    /// Running now, or suspended by a bare `yield` that parked nothing: as in MicroPython, such
    /// a task runs again only when something pushes it.
    #[default]
    None,
    /// In the run queue, due now.
    Ready,
    /// In the run queue until this deadline (sleep); the key takes it out.
    Timer(TimerKey, u64),
    /// In an Event's waiter queue, under this key.
    Event(PyRef<PyEvent>, WaitKey),
    /// In a Lock's waiter queue, under this key.
    Lock(PyRef<PyLock>, WaitKey),
    /// Handed the Lock by `release()` and in the run queue: it owns the lock already.
    LockGranted(PyRef<PyLock>),
    /// The waiter of a ThreadSafeFlag.
    Flag(PyRef<PyThreadSafeFlag>),
    /// Awaiting another task, in its waiters under this key; cancelling this task cancels
    /// that one instead.
    Task(PyRef<PyTask>, WaitKey),
    /// `gather`: awaiting several tasks (MicroPython's `_Remove` marker).
    Gather(Rc<GatherState>),
    /// A stream or server waiting for its descriptor (reactor token) to become ready.
    Io(microloop_core::Token),
    /// Parked on a wake-up source with what it waits for there (an async host call);
    /// cancelling the task tells the source ([`super::sources::Source::cancel_wait`]).
    Source(super::sources::SourceId, PyObjectRef),
    /// In the waiter queue, under this key, of one of CPython's primitives (Queue, Semaphore,
    /// Condition, Future, Barrier...): `obj`, whose [`WaitSite`] knows how to take it out.
    Site(PyObjectRef, WaitKey, &'static WaitSite),
    /// Woken by `obj` with what it waited for (a Semaphore's unit, a Queue's wake-up) and in the
    /// run queue: cancelled before it runs, it gives that back ([`WaitSite::give_back`]).
    SiteGranted(PyObjectRef, &'static WaitSite),
}

/// How the scheduler undoes a [`Wait::Site`] or [`Wait::SiteGranted`] of one kind of primitive:
/// the one cancellation rule ([`Scheduler::detach`]) for primitives defined outside this module.
#[derive(Debug)]
pub(crate) struct WaitSite {
    /// What the task waits in, as the task monitor shows it ("Queue.get", "Semaphore.acquire").
    pub what: &'static str,
    /// Takes the entry under `key` out of `obj`'s waiter queue (the task was cancelled or timed
    /// out). Called with no borrow held; whatever it drops may run code.
    pub remove: fn(obj: &rustpython_vm::PyObject, key: WaitKey),
    /// The task `obj` woke with what it waited for was cancelled (or detached otherwise) before
    /// it ran: `obj` passes it on to its next waiter, as CPython's primitives do.
    pub give_back: fn(obj: &rustpython_vm::PyObject, sched: &Scheduler),
}

/// Someone to tell when a task finishes: MicroPython's `Task.state` while it runs.
#[derive(Debug)]
pub(crate) enum Waiter {
    /// A task awaiting this one: it becomes ready.
    Task(PyRef<PyTask>),
    /// A gather collecting this task's result, as its child number `usize` (MicroPython's
    /// `done` callback).
    Gather(Rc<GatherState>, usize),
    /// CPython's `add_done_callback(fn)`: `fn(task)` is scheduled with `call_soon`. Like the
    /// others it counts as retrieving the outcome (the callback's owner answers for the
    /// exception; CPython reports one nobody looked at only when the task is collected).
    Callback(PyObjectRef),
}

impl Waiter {
    pub fn notify(self, sched: &Scheduler, done: &PyRef<PyTask>, vm: &VirtualMachine) {
        match self {
            Waiter::Task(task) => sched.wake(task),
            Waiter::Gather(state, index) => state.child_done(sched, index, done, vm),
            Waiter::Callback(callback) => {
                // Scheduling cannot fail (a closed loop still runs its callbacks here).
                let _ = super::future::call_soon(callback, vec![done.clone().into()], vm);
            }
        }
    }
}

thread_local! {
    /// The number of the last task made: CPython names tasks `Task-1`, `Task-2`... in the
    /// order they are made.
    static TASK_NUMBER: Cell<u64> = const { Cell::new(0) };
}

/// Whether the coroutine has finished.
#[derive(Debug)]
pub(crate) enum TaskState {
    /// Still running or waiting.
    Pending,
    /// Finished with a value or an exception.
    Done(Result<PyObjectRef, PyBaseExceptionRef>),
}

/// The object a task drives, sorted once so each resume takes the direct path.
#[derive(Debug)]
enum Coro {
    /// An `async def` coroutine: resumed through the VM's coroutine API.
    Coroutine(PyRef<PyCoroutine>),
    /// A generator-based coroutine.
    Generator(PyRef<PyGenerator>),
    /// Any other object with `send` and `throw`.
    Sendable(PyObjectRef),
    /// An awaitable's iterator (from `__await__`), stepped with `__next__`.
    Iterator(PyObjectRef),
    /// Steps written in Rust that take a place in the run queue as MicroPython's helper tasks
    /// do (wait_for's runner, run_forever's stopper).
    Native(NativeCoro),
}

/// The helper tasks MicroPython writes in Python and microloop in Rust.
#[derive(Debug, Clone)]
pub(crate) enum NativeCoro {
    /// `wait_for`'s runner: awaits the task and wakes the waiter with its outcome.
    Runner(Rc<super::funcs::WaitForState>),
    /// `run_forever`'s `_stopper()`: returns at once; `stop()` pushes it.
    Stopper,
    /// A callback of `call_soon`, `call_later` or `call_at` (or a Future's done callback),
    /// taking its place in the run queue as CPython's ready queue gives it one
    /// ([`super::future::PyHandle::step`]).
    Callback(PyRef<super::future::PyHandle>),
}

/// A coroutine wrapped for the scheduler (MicroPython's `Task`).
///
/// `Task(coro)` makes one that is not scheduled, as in MicroPython, and the class can be
/// subclassed; a subclass's `__init__` calls `super().__init__(coro)`, which is why `coro_obj`
/// can be replaced after the object is made.
#[pyclass(module = "asyncio", name = "Task")]
#[derive(Debug, PyPayload)]
pub struct PyTask {
    /// The task's place in the scheduler's list of live tasks (the task monitor's and
    /// `all_tasks()`'s). First, so that a task dropped while pending leaves the list before any
    /// other field is dropped (see `monitor.rs`).
    pub(crate) live: super::monitor::LiveSlot,
    /// The object passed to `create_task` or `Task()`, shown as `task.coro`.
    coro_obj: RefCell<PyObjectRef>,
    /// How to resume `coro_obj`. Fixed when the task is made: only the tasks `Task()` makes can
    /// have `coro_obj` replaced, and the loop never runs those (nothing schedules them, as in
    /// MicroPython, where only its internal run queue could).
    coro: Coro,
    /// Pending or done, with the outcome.
    state: RefCell<TaskState>,
    /// Whether some task has seen the outcome; an unseen exception goes to the handler.
    retrieved: Cell<bool>,
    /// What the task waits on now.
    wait: RefCell<Wait>,
    /// Thrown into the coroutine at its next resume instead of sending None (cancellation).
    pending: RefCell<Option<PyBaseExceptionRef>>,
    /// Tasks and gathers waiting for this task to finish, in arrival order.
    waiters: RefCell<WaitQueue<Waiter>>,
    /// Set while the task is parked by `sleep`, so that sleep's `__next__` knows the next call
    /// is the wake-up. Lets one sleep object serve every task, as MicroPython's singleton does.
    pub(crate) slept: Cell<bool>,
    /// Set while a `wait_for` runner has handed the task its outcome and the task has not run
    /// yet (MicroPython: its `data` holds the runner's CancelledError, not None).
    pub(crate) handed: Cell<bool>,
    /// The name `set_name` or `create_task(name=)` gave; without one, `Task-{number}`.
    name: RefCell<Option<PyObjectRef>>,
    /// The task's number, in the order tasks are made (0 for the loop's helper tasks).
    number: u64,
    /// CPython's count of cancellation requests not taken back by `uncancel()`.
    cancel_requests: Cell<u32>,
    /// Set once the CancelledError a cancelled task ended with has been handed out (awaited,
    /// or raised by `result()`/`exception()`): CPython hands it out once, with its message,
    /// and a new CancelledError without one after that.
    cancel_error_given: Cell<bool>,
}

impl PyTask {
    /// Wraps `coro` in a new task, or raises TypeError as MicroPython does for non-coroutines.
    pub fn new(coro_obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<Self> {
        let coro = PyTask::classify(&coro_obj, true, vm)?;
        Ok(PyTask::with_coro(coro_obj, coro))
    }

    /// How to resume `coro_obj`. `strict` (`create_task`) refuses what is not a coroutine, as
    /// MicroPython's `create_task` does; `Task(obj)` takes anything, as MicroPython's
    /// constructor does, and resuming such a task calls its `send` as MicroPython's loop does.
    fn classify(coro_obj: &PyObjectRef, strict: bool, vm: &VirtualMachine) -> PyResult<Coro> {
        Ok(if let Some(c) = coro_obj.downcast_ref::<PyCoroutine>() {
            Coro::Coroutine(c.to_owned())
        } else if let Some(g) = coro_obj.downcast_ref::<PyGenerator>() {
            Coro::Generator(g.to_owned())
        } else if coro_obj.downcastable::<PyAsyncGen>() {
            // An `async def` holding `yield`: MicroPython runs it as the generator it is there;
            // the VM's awaiter steps it so (send/throw), as `await` does.
            Coro::Sendable(rustpython_vm::get_awaitable_iter(coro_obj.clone(), vm)?)
        } else if !strict {
            Coro::Sendable(coro_obj.clone())
        } else if vm.get_attribute_opt(coro_obj, "send")?.is_some()
            && vm.get_attribute_opt(coro_obj, "throw")?.is_some()
        {
            Coro::Sendable(coro_obj.clone())
        } else if coro_obj.class().has_attr(vm.ctx.intern_str("__await__")) {
            let iter = vm.call_method(coro_obj, "__await__", ())?;
            Coro::Iterator(iter)
        } else {
            return Err(vm.new_type_error("coroutine expected"));
        })
    }

    /// The coroutine of `Task(coro[, globals])`, MicroPython's constructor arguments, checked
    /// as MicroPython checks them (`globals` is accepted and not used).
    fn ctor_coro(args: &FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if !args.kwargs.is_empty() {
            return Err(vm.new_type_error("function doesn't take keyword arguments"));
        }
        match args.args.len() {
            0 => Err(vm.new_type_error("function missing 1 required positional arguments")),
            1 | 2 => Ok(args.args[0].clone()),
            n => Err(vm.new_type_error(format!("function expected at most 2 arguments, got {n}"))),
        }
    }

    /// A pending task that has not run.
    fn with_coro(coro_obj: PyObjectRef, coro: Coro) -> Self {
        let number = if matches!(coro, Coro::Native(_)) {
            0
        } else {
            TASK_NUMBER.with(|n| {
                n.set(n.get() + 1);
                n.get()
            })
        };
        PyTask {
            live: super::monitor::LiveSlot::new(),
            name: RefCell::new(None),
            number,
            cancel_requests: Cell::new(0),
            cancel_error_given: Cell::new(false),
            coro_obj: RefCell::new(coro_obj),
            coro,
            state: RefCell::new(TaskState::Pending),
            retrieved: Cell::new(false),
            wait: RefCell::new(Wait::None),
            pending: RefCell::new(None),
            waiters: RefCell::new(WaitQueue::new()),
            slept: Cell::new(false),
            handed: Cell::new(false),
        }
    }

    /// Creates a task and puts it at the back of the ready queue.
    pub fn spawn(coro: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
        let task = PyTask::new(coro, vm)?.into_ref(&vm.ctx);
        let s = sched();
        s.live.add(&task);
        s.push_ready(task.clone());
        Ok(task)
    }

    /// A task running Rust steps, not queued yet.
    pub(crate) fn native(coro: NativeCoro, vm: &VirtualMachine) -> PyRef<PyTask> {
        PyTask::with_coro(vm.ctx.none(), Coro::Native(coro)).into_ref(&vm.ctx)
    }

    /// The object the task runs (`task.coro`), for the task monitor.
    pub(crate) fn coro_object(&self) -> PyObjectRef {
        self.coro_obj.borrow().clone()
    }

    /// Calls `f` with what the task waits on, for the task monitor. `f` must not run Python
    /// code or touch the task's wait: the record stays borrowed meanwhile.
    pub(crate) fn with_wait<R>(&self, f: impl FnOnce(&Wait) -> R) -> R {
        f(&self.wait.borrow())
    }

    /// Whether the task is one of the loop's helpers (a `call_soon` callback, wait_for's runner,
    /// run_forever's stopper), not a task of the program.
    pub(crate) fn is_helper(&self) -> bool {
        matches!(self.coro, Coro::Native(_))
    }

    /// Whether a cancellation is waiting to be thrown in at the next resume.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.borrow().is_some()
    }

    /// Replaces the exception thrown in at the next resume.
    pub(crate) fn set_pending(&self, exc: PyBaseExceptionRef) {
        *self.pending.borrow_mut() = Some(exc);
    }

    /// Whether the task waits in the run queue and nothing is to be thrown into it (MicroPython's
    /// `task.data is None` for a task that is not running).
    pub(crate) fn is_queued_plain(&self) -> bool {
        !self.has_pending()
            && !self.handed.get()
            && matches!(*self.wait.borrow(), Wait::Ready | Wait::Timer(..) | Wait::LockGranted(_) | Wait::SiteGranted(..))
    }

    /// Whether a gather has registered for this task's end (MicroPython: `state` is a callable).
    pub(crate) fn in_gather(&self) -> bool {
        self.waiters.borrow().iter().any(|w| matches!(w, Waiter::Gather(..)))
    }

    /// Whether anybody waits for this task's end.
    pub(crate) fn has_waiters(&self) -> bool {
        !self.waiters.borrow().is_empty()
    }

    /// Resumes the coroutine once: throws the pending exception if any, else sends None.
    pub(crate) fn resume(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let pending = self.pending.borrow_mut().take();
        match pending {
            None => match &self.coro {
                Coro::Coroutine(c) => c.as_coro().send(c.as_object(), vm.ctx.none(), vm),
                Coro::Generator(g) => g.as_coro().send(g.as_object(), vm.ctx.none(), vm),
                Coro::Sendable(o) => {
                    PyIterReturn::from_pyresult(vm.call_method(o, "send", (vm.ctx.none(),)), vm)
                }
                Coro::Iterator(it) => {
                    PyIterReturn::from_pyresult(vm.call_method(it, "__next__", ()), vm)
                }
                Coro::Native(native) => native.step(self, None, vm),
            },
            Some(exc) => {
                self.slept.set(false);
                let none = || vm.ctx.none();
                let exc_obj: PyObjectRef = exc.clone().into();
                match &self.coro {
                    Coro::Coroutine(c) => c.as_coro().throw(c.as_object(), exc_obj, none(), none(), vm),
                    Coro::Generator(g) => g.as_coro().throw(g.as_object(), exc_obj, none(), none(), vm),
                    Coro::Sendable(o) => {
                        PyIterReturn::from_pyresult(vm.call_method(o, "throw", (exc_obj,)), vm)
                    }
                    Coro::Iterator(it) => match vm.get_attribute_opt(it, "throw")? {
                        Some(throw) => PyIterReturn::from_pyresult(throw.call((exc_obj,), vm), vm),
                        None => Err(exc),
                    },
                    Coro::Native(native) => native.step(self, Some(exc), vm),
                }
            }
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(*self.state.borrow(), TaskState::Done(_))
    }

    pub(crate) fn set_done(&self, result: Result<PyObjectRef, PyBaseExceptionRef>) {
        *self.state.borrow_mut() = TaskState::Done(result);
    }

    /// The outcome of a finished task, marking it retrieved: its value, or its exception raised.
    pub(crate) fn take_result(&self, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        self.retrieved.set(true);
        let given = self.cancel_error_given.replace(true);
        match &*self.state.borrow() {
            TaskState::Done(Ok(v)) => Ok(v.clone()),
            // A cancelled task's CancelledError, with its message, is handed out once (see
            // `cancel_error_given`).
            TaskState::Done(Err(e)) if given && super::core::is_cancelled(e, vm) => Err(super::new_cancelled_error(vm)),
            TaskState::Done(Err(e)) => Err(e.clone()),
            TaskState::Pending => Err(vm.new_runtime_error("task not done")),
        }
    }

    /// The outcome of a finished task, without marking it retrieved.
    pub(crate) fn outcome(&self) -> Option<Result<PyObjectRef, PyBaseExceptionRef>> {
        match &*self.state.borrow() {
            TaskState::Done(r) => Some(r.clone()),
            TaskState::Pending => None,
        }
    }

    /// The exception a finished task ended with.
    pub(crate) fn exception(&self) -> Option<PyBaseExceptionRef> {
        match &*self.state.borrow() {
            TaskState::Done(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    pub(crate) fn retrieved(&self) -> bool {
        self.retrieved.get()
    }

    pub(crate) fn mark_retrieved(&self) {
        self.retrieved.set(true);
    }

    pub(crate) fn set_wait(&self, wait: Wait) {
        // The old record is dropped after the borrow ends: dropping an object can run code.
        let old = std::mem::replace(&mut *self.wait.borrow_mut(), wait);
        drop(old);
    }

    pub(crate) fn take_wait(&self) -> Wait {
        std::mem::take(&mut *self.wait.borrow_mut())
    }

    /// Adds someone to tell when the task finishes; the key takes them out again.
    pub(crate) fn add_waiter(&self, waiter: Waiter) -> WaitKey {
        self.waiters.borrow_mut().push_back(waiter)
    }

    /// The task's name: the one it was given, else `Task-N`.
    pub(crate) fn display_name(&self, vm: &VirtualMachine) -> String {
        match &*self.name.borrow() {
            Some(name) => name.str(vm).map(|s| s.to_string()).unwrap_or_default(),
            None => format!("Task-{}", self.number),
        }
    }

    /// Gives back the number of a task just made that `create_task(name=...)` names: as in
    /// CPython 3.13, only unnamed tasks count (`Task-N`).
    pub(crate) fn release_number(&self) {
        TASK_NUMBER.with(|n| {
            if n.get() == self.number {
                n.set(n.get() - 1);
            }
        });
    }

    /// Names the task (`create_task(coro, name=...)`); None keeps `Task-N`.
    pub(crate) fn set_name_obj(&self, name: Option<PyObjectRef>) {
        let old = std::mem::replace(&mut *self.name.borrow_mut(), name);
        drop(old);
    }

    /// What `result()` and `exception()` of a cancelled task raise: the CancelledError it ended
    /// with the first time it is handed out, a new one without the message after that.
    fn cancelled_error(&self, vm: &VirtualMachine) -> PyBaseExceptionRef {
        self.mark_retrieved();
        match self.exception() {
            Some(e) if !self.cancel_error_given.replace(true) => e,
            _ => super::new_cancelled_error(vm),
        }
    }

    /// Whether the task finished by being cancelled.
    pub(crate) fn was_cancelled(&self, vm: &VirtualMachine) -> bool {
        self.exception().is_some_and(|e| super::core::is_cancelled(&e, vm))
    }

    /// Takes everyone to tell, oldest first.
    pub(crate) fn take_waiters(&self) -> impl Iterator<Item = Waiter> + use<> {
        self.waiters.borrow_mut().take_all()
    }

    /// Takes out the waiter `key` was given for (it was cancelled or timed out).
    pub(crate) fn remove_waiter(&self, key: WaitKey) {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = self.waiters.borrow_mut().remove(key);
        drop(removed);
    }

    /// Cancels the task: it gets CancelledError at its current await. Returns False if it has
    /// finished already. Follows MicroPython's `Task.cancel` step by step:
    /// - a task cannot cancel itself;
    /// - a task awaiting another task forwards the cancellation to it, along the whole chain
    ///   (it wakes later with that task's CancelledError); a chain that ends at the running
    ///   task changes nothing, since the running task's next wait overwrites the request;
    /// - a task parked in a queue that can give it back (Event, Lock, ThreadSafeFlag, stream,
    ///   gather, host call) is taken out and pushed to the run queue now;
    /// - a task sleeping until a future deadline is brought forward to now;
    /// - a task already due in the run queue keeps its place.
    pub(crate) fn cancel_task(zelf: &PyRef<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        PyTask::cancel_with(zelf, None, vm)
    }

    /// [`PyTask::cancel_task`] with CPython's `msg`, the argument of the CancelledError thrown.
    pub(crate) fn cancel_with(zelf: &PyRef<Self>, msg: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<bool> {
        if zelf.is_done() {
            return Ok(false);
        }
        let s = sched();
        let cur = s.current();
        if cur.as_ref().is_some_and(|c| c.is(zelf)) {
            return Err(vm.new_runtime_error("can't cancel self"));
        }
        // Each task along the chain counts the request, as CPython's, whose `cancel()` of a
        // task awaiting another calls that one's `cancel()`.
        zelf.cancel_requests.set(zelf.cancel_requests.get().saturating_add(1));
        let mut target = zelf.clone();
        loop {
            let next = match &*target.wait.borrow() {
                Wait::Task(other, _) => other.clone(),
                _ => break,
            };
            if next.is_done() {
                break;
            }
            next.cancel_requests.set(next.cancel_requests.get().saturating_add(1));
            target = next;
        }
        if cur.as_ref().is_some_and(|c| c.is(&target)) {
            return Ok(true);
        }
        // A task awaiting a Future cancels the future, as CPython's does: the future wakes its
        // waiters and callbacks in the order they came, this task among them.
        let future = match &*target.wait.borrow() {
            Wait::Site(obj, _, site) if std::ptr::eq(*site, &super::future::FUTURE_SITE) => Some(obj.clone()),
            _ => None,
        };
        if let Some(future) = future {
            super::future::cancel_future(&future, msg.clone(), vm);
        }
        PyTask::requeue_now(&target, &s);
        target.handed.set(false);
        // A cancellation already on its way keeps its message, as in CPython.
        if !target.has_pending() {
            let error = match msg {
                None => super::new_cancelled_error(vm),
                Some(msg) => vm.new_exception(super::cancelled_error_type(vm), vec![msg]),
            };
            target.set_pending(error);
        }
        Ok(true)
    }

    /// What cancelling does to `target`'s place in the queues: a task parked in a queue that
    /// can give it back, or sleeping until a future deadline, is queued now; a task already
    /// due keeps its place.
    pub(crate) fn requeue_now(target: &PyRef<Self>, s: &Scheduler) {
        let forward = match &*target.wait.borrow() {
            Wait::None | Wait::Ready | Wait::LockGranted(_) | Wait::SiteGranted(..) => false,
            Wait::Timer(_, deadline) => *deadline > s.now_us(),
            _ => true,
        };
        if forward {
            s.wake(target.clone());
        }
    }

    /// One step of `await task` for the running task: the value or exception of a finished
    /// task, or the running task parked among its waiters. RuntimeError("can't wait") when a
    /// gather has registered for the task, as in MicroPython.
    pub(crate) fn await_step(this: &PyRef<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        if this.is_done() {
            return match this.take_result(vm) {
                Ok(v) => Ok(PyIterReturn::StopIteration(Some(v))),
                Err(e) => Err(e),
            };
        }
        if this.in_gather() {
            return Err(vm.new_runtime_error("can't wait"));
        }
        let cur = current_task(vm)?;
        if cur.is(this) {
            return Err(vm.new_runtime_error("can't wait on self"));
        }
        let key = this.add_waiter(Waiter::Task(cur.clone()));
        cur.set_wait(Wait::Task(this.clone(), key));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

impl NativeCoro {
    /// Runs one step of the helper task `task`; `thrown` is its pending exception.
    fn step(&self, task: &PyTask, thrown: Option<PyBaseExceptionRef>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        match self {
            NativeCoro::Stopper => match thrown {
                Some(exc) => Err(exc),
                None => Ok(PyIterReturn::StopIteration(None)),
            },
            NativeCoro::Runner(state) => state.runner_step(task, thrown, vm),
            NativeCoro::Callback(handle) => super::future::PyHandle::step(handle, thrown, vm),
        }
    }
}

/// `Task(coro[, globals])`: a task that is not scheduled, as in MicroPython. A subclass's
/// arguments are its own `__init__`'s: when they are not a Task's, the task waits for
/// `super().__init__(coro)` with None as its coroutine.
impl Constructor for PyTask {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let coro_obj = if cls.is(PyTask::class(&vm.ctx)) {
            PyTask::ctor_coro(&args, vm)?
        } else {
            PyTask::ctor_coro(&args, vm).unwrap_or_else(|_| vm.ctx.none())
        };
        let coro = PyTask::classify(&coro_obj, false, vm)?;
        PyTask::with_coro(coro_obj, coro).into_ref_with_type(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<PyType>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        let coro_obj = PyTask::ctor_coro(&args, vm)?;
        let coro = PyTask::classify(&coro_obj, false, vm)?;
        Ok(PyTask::with_coro(coro_obj, coro))
    }
}

/// A subclass's `super().__init__(coro[, globals])`: sets the coroutine of a task that has not
/// started (and never will: see [`PyTask::coro`]). On a plain Task it does nothing (the
/// constructor took the same arguments).
impl Initializer for PyTask {
    type Args = FuncArgs;
    fn init(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.class().is(PyTask::class(&vm.ctx)) {
            return Ok(());
        }
        let coro_obj = PyTask::ctor_coro(&args, vm)?;
        // The old one is dropped after the borrow ends: dropping an object can run code.
        let old = std::mem::replace(&mut *zelf.coro_obj.borrow_mut(), coro_obj);
        drop(old);
        Ok(())
    }
}

#[pyclass(with(Constructor, Initializer, IterNext, Iterable, Representable), flags(BASETYPE))]
impl PyTask {
    /// The coroutine the task runs.
    #[pygetset]
    fn coro(zelf: &Py<Self>) -> PyObjectRef {
        zelf.coro_obj.borrow().clone()
    }

    /// True once the task has finished, by returning, raising or being cancelled.
    #[pymethod]
    fn done(zelf: &Py<Self>) -> bool {
        zelf.is_done()
    }

    /// Cancels the task by raising CancelledError (with CPython's `msg` as its argument) at
    /// its current await. Returns False if the task has finished already; raises RuntimeError
    /// when a task cancels itself, as MicroPython does.
    #[pymethod]
    fn cancel(zelf: PyRef<Self>, msg: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<bool> {
        PyTask::cancel_with(&zelf, msg.into_option().filter(|m| !vm.is_none(m)), vm)
    }

    /// CPython's `result()`: the value, or the exception raised (CancelledError for a cancelled
    /// task); InvalidStateError while the task runs.
    #[pymethod]
    fn result(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        if !zelf.is_done() {
            return Err(invalid_state("Result is not set.", vm));
        }
        if zelf.was_cancelled(vm) {
            return Err(zelf.cancelled_error(vm));
        }
        zelf.take_result(vm)
    }

    /// CPython's `exception()`: the exception the task ended with, or None; a cancelled task
    /// raises its CancelledError; InvalidStateError while the task runs.
    #[pymethod(name = "exception")]
    fn py_exception(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        if !zelf.is_done() {
            return Err(invalid_state("Exception is not set.", vm));
        }
        zelf.mark_retrieved();
        match zelf.exception() {
            Some(e) if super::core::is_cancelled(&e, vm) => Err(zelf.cancelled_error(vm)),
            Some(e) => Ok(e.into()),
            None => Ok(vm.ctx.none()),
        }
    }

    /// CPython's `cancelled()`: whether the task ended by being cancelled.
    #[pymethod]
    fn cancelled(zelf: &Py<Self>, vm: &VirtualMachine) -> bool {
        zelf.was_cancelled(vm)
    }

    /// CPython's `add_done_callback(fn, *, context=None)`: `fn(task)` is scheduled with
    /// `call_soon` when the task finishes, or now if it has.
    #[pymethod]
    fn add_done_callback(zelf: PyRef<Self>, callback: PyObjectRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        check_context_only(&args, "add_done_callback", vm)?;
        if zelf.is_done() {
            super::future::call_soon(callback, vec![zelf.into()], vm)?;
        } else {
            zelf.add_waiter(Waiter::Callback(callback));
        }
        Ok(())
    }

    /// CPython's `remove_done_callback(fn)`: takes out every registration of `fn` (compared
    /// with `==`) and returns how many there were.
    #[pymethod]
    fn remove_done_callback(zelf: &Py<Self>, callback: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        let registered: Vec<(WaitKey, PyObjectRef)> = zelf
            .waiters
            .borrow()
            .iter_keyed()
            .filter_map(|(key, w)| match w {
                Waiter::Callback(f) => Some((key, f.clone())),
                _ => None,
            })
            .collect();
        let mut removed = 0;
        for (key, f) in registered {
            if vm.bool_eq(&f, &callback)? {
                zelf.remove_waiter(key);
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// CPython's `get_name()`: the name given, else `Task-N` (N counts the tasks made).
    #[pymethod]
    fn get_name(zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
        match &*zelf.name.borrow() {
            Some(name) => name.clone(),
            None => vm.ctx.new_str(format!("Task-{}", zelf.number)).into(),
        }
    }

    /// CPython's `set_name(value)`: names the task `str(value)`.
    #[pymethod]
    fn set_name(zelf: &Py<Self>, value: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let name = value.str(vm)?;
        zelf.set_name_obj(Some(name.into()));
        Ok(())
    }

    /// CPython's `get_coro()`.
    #[pymethod]
    fn get_coro(zelf: &Py<Self>) -> PyObjectRef {
        zelf.coro_obj.borrow().clone()
    }

    /// CPython's `get_loop()`: the one loop.
    #[pymethod]
    fn get_loop(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        super::loop_object(vm)
    }

    /// CPython's `cancelling()`: how many cancellation requests are pending (made by
    /// `cancel()` and not taken back by `uncancel()`).
    #[pymethod]
    fn cancelling(zelf: &Py<Self>) -> u32 {
        zelf.cancel_requests.get()
    }

    /// CPython's `uncancel()`: takes back one cancellation request; returns how many remain.
    #[pymethod]
    fn uncancel(zelf: &Py<Self>) -> u32 {
        let left = zelf.cancel_requests.get().saturating_sub(1);
        zelf.cancel_requests.set(left);
        left
    }
}

/// CPython's `asyncio.InvalidStateError(message)`.
fn invalid_state(message: &str, vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_exception_msg(super::future::invalid_state_error(vm), message.into())
}

/// Refuses any argument but CPython's keyword `context` (which microloop does not use: it has
/// no contextvars contexts per callback).
pub(crate) fn check_context_only(args: &FuncArgs, function: &str, vm: &VirtualMachine) -> PyResult<()> {
    if !args.args.is_empty() {
        return Err(vm.new_type_error(format!("{function}() takes exactly one positional argument")));
    }
    if let Some(name) = args.kwargs.keys().find(|k| k.as_str() != Ok("context")) {
        return Err(vm.new_type_error(format!("{function}() got an unexpected keyword argument '{name}'")));
    }
    Ok(())
}

impl SelfIter for PyTask {}

/// Awaiting a task (`__await__` is a [`super::fastpath::AwaitSlot`]) waits for it to finish and
/// gives its value or raises its exception.
impl IterNext for PyTask {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        PyTask::await_step(&zelf.to_owned(), vm)
    }
}

impl Representable for PyTask {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("<Task>".to_owned())
    }
}
