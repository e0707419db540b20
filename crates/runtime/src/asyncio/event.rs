//! `Event` and `ThreadSafeFlag`, as in MicroPython's `extmod/asyncio/event.py`.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use microloop_core::{Notifier, WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyPayload, PyRef, PyResult, VirtualMachine,
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, SelfIter},
};

use super::core::{Scheduler, current_task, sched};
use super::sources::{Source, SourceId};
use super::task::{PyTask, Wait};

/// An event tasks wait on until some task sets it. Programs subclass it (and set attributes on
/// it) as they do MicroPython's Python class: the instance dict is made on the first attribute
/// set, so a plain Event allocates none.
#[pyclass(module = "asyncio", name = "Event")]
#[derive(Debug, PyPayload)]
pub struct PyEvent {
    /// Whether the event is set.
    state: Cell<bool>,
    /// Tasks in `wait()`, in arrival order.
    waiters: RefCell<WaitQueue<PyRef<PyTask>>>,
}

impl PyEvent {
    /// Takes out the waiter `key` was given for (its task was cancelled or timed out).
    pub(crate) fn remove_waiter(&self, key: WaitKey) {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = self.waiters.borrow_mut().remove(key);
        drop(removed);
    }
}

// `Event()` and `__init__`, for subclasses too.
super::no_argument_class!(PyEvent);

impl PyEvent {
    fn fresh() -> Self {
        PyEvent { state: Cell::new(false), waiters: RefCell::new(WaitQueue::new()) }
    }

    /// `Event.__init__()`, which a subclass's `__init__` calls through `super()`: clears the
    /// event, as MicroPython's does. Tasks already waiting keep waiting on it (MicroPython's
    /// forgets them, never to wake them).
    fn reinit(&self) {
        self.state.set(false);
    }
}

#[pyclass(with(Constructor, Initializer), flags(BASETYPE, HAS_DICT))]
impl PyEvent {
    /// True if the event is set.
    #[pymethod]
    fn is_set(zelf: &Py<Self>) -> bool {
        zelf.state.get()
    }

    /// Sets the event and makes every waiting task ready, in the order they started waiting.
    #[pymethod]
    fn set(zelf: &Py<Self>) {
        zelf.state.set(true);
        let waiters = zelf.waiters.borrow_mut().take_all();
        let s = sched();
        for task in waiters {
            s.wake(task);
        }
    }

    /// Clears the event.
    #[pymethod]
    fn clear(zelf: &Py<Self>) {
        zelf.state.set(false);
    }

    /// Waits until the event is set; returns True.
    #[pymethod]
    fn wait(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyEventWait> {
        PyEventWait { event: zelf, yielded: Cell::new(false) }.into_ref(&vm.ctx)
    }
}

/// The awaitable `Event.wait()` returns.
#[pyclass(module = "asyncio", name = "EventWait")]
#[derive(Debug, PyPayload)]
pub struct PyEventWait {
    /// The event waited on.
    event: PyRef<PyEvent>,
    /// Set once the task has parked: the next resume is the wake-up.
    yielded: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyEventWait {}

impl SelfIter for PyEventWait {}

impl IterNext for PyEventWait {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        if zelf.yielded.get() || zelf.event.state.get() {
            return Ok(PyIterReturn::StopIteration(Some(vm.ctx.new_bool(true).into())));
        }
        let cur = current_task(vm)?;
        let key = zelf.event.waiters.borrow_mut().push_back(cur.clone());
        cur.set_wait(Wait::Event(zelf.event.clone(), key));
        zelf.yielded.set(true);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

/// The part of a ThreadSafeFlag other threads may touch: an atomic and the poller's waker.
#[derive(Debug)]
pub struct FlagShared {
    /// Whether the flag is set.
    flag: AtomicBool,
    /// Wakes the loop when the flag is set from another thread.
    notifier: Notifier,
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FlagShared>();
};

impl FlagShared {
    /// A clear flag whose `set` wakes the loop through `notifier`.
    pub(crate) fn new(notifier: Notifier) -> Self {
        FlagShared { flag: AtomicBool::new(false), notifier }
    }

    /// Sets the flag from any thread and wakes the loop's poller.
    pub fn set(&self) {
        self.flag.store(true, Ordering::Release);
        self.notifier.notify();
    }
}

/// A flag set from outside the loop (an interrupt handler, another thread) that one task waits
/// on. Setting it twice before the wait wakes the task once: it is a flag, not a counter.
/// Subclassable, with an instance dict made on the first attribute set, like Event.
#[pyclass(module = "asyncio", name = "ThreadSafeFlag")]
#[derive(Debug, PyPayload)]
pub struct PyThreadSafeFlag {
    /// The flag itself, shared with other threads.
    shared: Arc<FlagShared>,
    /// The one task waiting, if any.
    waiter: RefCell<Option<PyRef<PyTask>>>,
}

impl PyThreadSafeFlag {
    pub(crate) fn is_set(&self) -> bool {
        self.shared.flag.load(Ordering::Acquire)
    }

    pub(crate) fn waiter(&self) -> Option<PyRef<PyTask>> {
        self.waiter.borrow().clone()
    }

    pub(crate) fn shared(&self) -> Arc<FlagShared> {
        self.shared.clone()
    }

    /// Creates the types a flag needs, for a flag made before `asyncio` is imported
    /// (`microloop.flag`): its own, and its `wait()` awaitable's.
    pub(crate) fn ensure_types(vm: &VirtualMachine) {
        let _ = <PyThreadSafeFlag as rustpython_vm::class::PyClassImpl>::make_static_type();
        crate::asyncio::fastpath::init_awaitable::<PyFlagWait>(vm);
    }

    /// A flag object around a flag the host shares (`microloop.flag`).
    pub(crate) fn from_shared(shared: Arc<FlagShared>) -> Self {
        PyThreadSafeFlag { shared, waiter: RefCell::new(None) }
    }

    /// Forgets `task` as the waiter, unless a later waiter has replaced it.
    pub(crate) fn remove_waiter(&self, task: &PyRef<PyTask>) {
        let mut waiter = self.waiter.borrow_mut();
        if waiter.as_ref().is_some_and(|w| w.is(task)) {
            waiter.take();
        }
    }
}

// `ThreadSafeFlag()` and `__init__`, for subclasses too.
super::no_argument_class!(PyThreadSafeFlag);

impl PyThreadSafeFlag {
    fn fresh() -> Self {
        PyThreadSafeFlag::from_shared(Arc::new(FlagShared::new(sched().notifier())))
    }

    /// `ThreadSafeFlag.__init__()`: clears the flag, as MicroPython's does.
    fn reinit(&self) {
        self.shared.flag.store(false, Ordering::Release);
    }
}

#[pyclass(with(Constructor, Initializer), flags(BASETYPE, HAS_DICT))]
impl PyThreadSafeFlag {
    /// Sets the flag. Safe to call from `micropython.schedule` callbacks, IRQ handlers and, via
    /// the embedding API, other threads. The waiting task is woken at the loop's next poll,
    /// before its next step, as MicroPython's poller finds the flag readable.
    #[pymethod]
    fn set(zelf: &Py<Self>) {
        zelf.shared.flag.store(true, Ordering::Release);
        if zelf.waiter.borrow().is_some() {
            let s = sched();
            s.flags.set_in_loop(&s);
        }
    }

    /// Clears the flag.
    #[pymethod]
    fn clear(zelf: &Py<Self>) {
        zelf.shared.flag.store(false, Ordering::Release);
    }

    /// Waits until the flag is set, then clears it. One task waits at a time: as in MicroPython,
    /// a second waiter replaces the first, which is then never woken by this flag.
    #[pymethod]
    fn wait(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyFlagWait> {
        PyFlagWait { flag: zelf, yielded: Cell::new(false) }.into_ref(&vm.ctx)
    }
}

/// The awaitable `ThreadSafeFlag.wait()` returns.
#[pyclass(module = "asyncio", name = "FlagWait")]
#[derive(Debug, PyPayload)]
pub struct PyFlagWait {
    /// The flag waited on.
    flag: PyRef<PyThreadSafeFlag>,
    /// Set once the task has parked: the next resume is the wake-up, which clears the flag
    /// whatever happened to it meanwhile.
    yielded: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyFlagWait {}

impl SelfIter for PyFlagWait {}

impl IterNext for PyFlagWait {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let flag = &zelf.flag;
        if flag.shared.flag.swap(false, Ordering::AcqRel) || zelf.yielded.get() {
            return Ok(PyIterReturn::StopIteration(None));
        }
        zelf.yielded.set(true);
        let cur = current_task(vm)?;
        let replaced = flag.waiter.borrow_mut().replace(cur.clone());
        if replaced.is_none() {
            sched().flags.add(flag.clone());
        }
        cur.set_wait(Wait::Flag(flag.clone()));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

/// The ThreadSafeFlags that have a waiting task, as a wake-up source. A flag set on the loop's
/// thread arms it: the waiter is pushed at the next poll, before the next step, as
/// MicroPython's poller finds the flag readable. One set by another thread is seen when the
/// loop takes in the notification.
pub(crate) struct Flags {
    id: SourceId,
    /// The flags with a waiter, in the order they began waiting; scanned when woken.
    waited: RefCell<Vec<PyRef<PyThreadSafeFlag>>>,
}

impl Flags {
    pub(crate) fn new(id: SourceId) -> Self {
        Flags { id, waited: RefCell::new(Vec::new()) }
    }

    /// A flag with a waiter was set on the loop's thread.
    pub(crate) fn set_in_loop(&self, sched: &Scheduler) {
        sched.arm(self.id);
    }

    /// `flag` has a waiter now.
    pub(crate) fn add(&self, flag: PyRef<PyThreadSafeFlag>) {
        self.waited.borrow_mut().push(flag);
    }

    /// `flag` has no waiter any more.
    pub(crate) fn forget(&self, flag: &PyRef<PyThreadSafeFlag>) {
        self.waited.borrow_mut().retain(|f| !f.is(flag));
    }

    /// Pushes the waiters of the flags that are set, in the order they began waiting.
    fn wake(&self, sched: &Scheduler) {
        sched.disarm(self.id);
        let flags = self.waited.borrow().clone();
        for flag in flags {
            if let Some(task) = flag.waiter().filter(|_| flag.is_set()) {
                sched.wake(task);
            }
        }
    }
}

impl Source for Flags {
    fn wait_io_event(&self, sched: &Scheduler, _vm: &VirtualMachine) -> PyResult<()> {
        self.wake(sched);
        Ok(())
    }

    fn take_notified(&self, sched: &Scheduler, _vm: &VirtualMachine) -> PyResult<()> {
        self.wake(sched);
        Ok(())
    }

    fn can_wake(&self) -> bool {
        !self.waited.borrow().is_empty()
    }

    fn reset(&self) {
        let flags = std::mem::take(&mut *self.waited.borrow_mut());
        drop(flags);
    }
}
