//! CPython's `Condition` (`asyncio.locks`), which MicroPython's asyncio lacks, with CPython
//! 3.11's behaviour and messages, on microloop's native Lock.
//!
//! `wait()` releases the lock, parks the task in the condition's queue ([`Wait::Site`]) and,
//! once notified, takes the lock again before returning True: at once if it is free, else
//! queued for it as `Lock.acquire()` queues. It takes the lock again whatever ends the wait:
//! a task cancelled while parked gets its CancelledError only once it holds the lock, and one
//! cancelled while queued for the lock queues again and then raises a new CancelledError, as
//! CPython's does. A notified task that is cancelled before it runs loses the notification,
//! as in CPython (no other waiter gets it).

use std::cell::{Cell, RefCell};

use microloop_core::{WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyTypeRef},
    class::PyClassImpl,
    function::{FuncArgs, OptionalArg, PosArgs},
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, Representable, SelfIter},
};

use super::core::{Scheduler, current_task, is_cancelled, sched};
use super::lock::PyLock;
use super::semaphore::{locks_repr, reused};
use super::task::{PyTask, Wait, WaitSite};

/// How a task parked in `Condition.wait()` leaves the queue when cancelled. Nothing is handed
/// to a notified task, so there is nothing to give back.
static SITE: WaitSite = WaitSite { what: "Condition.wait", remove: site_remove, give_back: site_give_back };

/// [`WaitSite::remove`] for a Condition.
fn site_remove(obj: &PyObject, key: WaitKey) {
    if let Some(cond) = obj.downcast_ref::<PyCondition>() {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = cond.waiters.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::give_back`] for a Condition: never recorded (a notified task is plainly ready).
fn site_give_back(_obj: &PyObject, _sched: &Scheduler) {}

/// A condition variable: tasks holding its lock `wait()` until another task holding it calls
/// `notify()` or `notify_all()`. Its lock is an asyncio Lock, made by the constructor or given.
///
/// Subclassable, with an instance dict made on the first attribute set.
#[pyclass(module = "asyncio.locks", name = "Condition")]
#[derive(Debug, PyPayload)]
pub struct PyCondition {
    /// The lock, set by `__init__` (made on first use if a subclass never calls it).
    lock: RefCell<Option<PyRef<PyLock>>>,
    /// Tasks parked in `wait()`, oldest first; a notified task leaves it.
    waiters: RefCell<WaitQueue<PyRef<PyTask>>>,
}

impl PyCondition {
    /// The condition's lock.
    fn lock(&self, vm: &VirtualMachine) -> PyResult<PyRef<PyLock>> {
        if let Some(lock) = self.lock.borrow().as_ref() {
            return Ok(lock.clone());
        }
        let lock = new_lock(vm)?;
        // The old value is dropped after the borrow ends: dropping an object can run code.
        let old = self.lock.borrow_mut().replace(lock.clone());
        drop(old);
        Ok(lock)
    }

    /// Wakes up to `n` parked tasks, oldest first; RuntimeError unless the lock is held.
    fn notify_n(&self, n: usize, vm: &VirtualMachine) -> PyResult<()> {
        if !self.lock(vm)?.is_held() {
            return Err(vm.new_runtime_error("cannot notify on un-acquired lock"));
        }
        let s = sched();
        for _ in 0..n {
            let next = self.waiters.borrow_mut().pop_front();
            match next {
                Some(task) => s.push_ready(task),
                None => break,
            }
        }
        Ok(())
    }
}

/// A new asyncio Lock.
fn new_lock(vm: &VirtualMachine) -> PyResult<PyRef<PyLock>> {
    let lock = PyLock::make_static_type().as_object().call((), vm)?;
    lock.downcast::<PyLock>().map_err(|_| vm.new_type_error("Lock() did not make a Lock"))
}

/// The arguments of `Condition(lock=None)`.
#[derive(rustpython_vm::FromArgs)]
pub struct ConditionArgs {
    /// An asyncio Lock; None or not given makes one.
    #[pyarg(any, optional)]
    lock: OptionalArg<PyObjectRef>,
}

/// `Condition(...)` makes the object and leaves the arguments to `__init__` (a subclass's own
/// takes what it likes and calls `super().__init__(lock)`).
impl Constructor for PyCondition {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        PyCondition::fresh().into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PyCondition::fresh())
    }
}

impl PyCondition {
    fn fresh() -> Self {
        PyCondition { lock: RefCell::new(None), waiters: RefCell::new(WaitQueue::new()) }
    }
}

/// `__init__(lock=None)`: the lock given, which must be an asyncio Lock (or subclass), or a new
/// one.
impl Initializer for PyCondition {
    type Args = ConditionArgs;
    fn init(zelf: &Py<Self>, args: ConditionArgs, vm: &VirtualMachine) -> PyResult<()> {
        let lock = match args.lock.into_option().filter(|l| !vm.is_none(l)) {
            None => new_lock(vm)?,
            Some(lock) => lock.downcast::<PyLock>().map_err(|other| {
                vm.new_type_error(format!("lock must be an asyncio.Lock, not '{}'", other.class().name()))
            })?,
        };
        let old = zelf.lock.borrow_mut().replace(lock);
        drop(old);
        Ok(())
    }
}

#[pyclass(with(Constructor, Initializer, Representable), flags(BASETYPE, HAS_DICT))]
impl PyCondition {
    /// The lock's `locked()`.
    #[pymethod]
    fn locked(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        vm.call_method(zelf.lock(vm)?.as_object(), "locked", ())
    }

    /// The lock's `acquire()`.
    #[pymethod]
    fn acquire(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        vm.call_method(zelf.lock(vm)?.as_object(), "acquire", ())
    }

    /// The lock's `release()`.
    #[pymethod]
    fn release(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        vm.call_method(zelf.lock(vm)?.as_object(), "release", ())
    }

    /// `async with cond`: takes the lock and gives None. A Lock subclass's own `acquire()` is
    /// awaited instead, if it has one.
    #[pymethod]
    fn __aenter__(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        let lock = zelf.lock(vm)?;
        if !lock.class().is(PyLock::class(&vm.ctx)) {
            return vm.call_method(lock.as_object(), "acquire", ());
        }
        Ok(PyCondEnter { lock, parked: Cell::new(false) }.into_ref(&vm.ctx).into())
    }

    /// The end of `async with cond`: releases the lock (a Lock subclass's own `release()`).
    #[pymethod]
    fn __aexit__(zelf: &Py<Self>, _args: PosArgs, vm: &VirtualMachine) -> PyResult {
        let lock = zelf.lock(vm)?;
        if lock.class().is(PyLock::class(&vm.ctx)) {
            PyLock::release_native(&lock, vm)?;
        } else {
            vm.call_method(lock.as_object(), "release", ())?;
        }
        Ok(super::done_awaitable(vm))
    }

    /// Releases the lock, waits until notified, takes the lock again and returns True.
    /// RuntimeError, when awaited, unless the lock is held.
    #[pymethod]
    fn wait(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyConditionWait> {
        PyConditionWait::new(zelf, vm)
    }

    /// Waits (as `wait()`) until `predicate()` is true and returns its value; a true value
    /// at first returns at once.
    #[pymethod]
    fn wait_for(zelf: PyRef<Self>, predicate: PyObjectRef, vm: &VirtualMachine) -> PyRef<PyConditionWaitFor> {
        PyConditionWaitFor { cond: zelf, predicate, inner: RefCell::new(None), done: Cell::new(false) }.into_ref(&vm.ctx)
    }

    /// Wakes up to `n` waiting tasks, oldest first; each returns from `wait()` once it holds
    /// the lock again. RuntimeError unless the lock is held.
    #[pymethod]
    fn notify(zelf: &Py<Self>, n: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        use rustpython_vm::builtins::{PyFloat, PyInt};
        let n = match n.into_option() {
            None => 1,
            Some(n) => {
                if let Some(n) = n.downcast_ref::<PyInt>() {
                    let n = n.as_bigint();
                    if n < &0.into() { 0 } else { usize::try_from(n).unwrap_or(usize::MAX) }
                } else if let Some(n) = n.downcast_ref::<PyFloat>() {
                    // CPython counts waiters woken while the count is below `n`.
                    let n = n.to_f64();
                    if n > 0.0 { n.ceil().min(usize::MAX as f64) as usize } else { 0 }
                } else if zelf.waiters.borrow().is_empty() {
                    // CPython compares the count with `n` only when it has someone to wake.
                    0
                } else {
                    // Not held: notify_n's RuntimeError comes first, as in CPython.
                    zelf.notify_n(0, vm)?;
                    return Err(vm.new_type_error(format!(
                        "'>=' not supported between instances of 'int' and '{}'",
                        n.class().name()
                    )));
                }
            }
        };
        zelf.notify_n(n, vm)
    }

    /// Wakes every waiting task. RuntimeError unless the lock is held.
    #[pymethod]
    fn notify_all(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.notify_n(usize::MAX, vm)
    }
}

/// `<asyncio.locks.Condition object at 0x... [unlocked]>`, as CPython shows it.
impl Representable for PyCondition {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let mut extra = if zelf.lock(vm)?.is_held() { "locked".to_owned() } else { "unlocked".to_owned() };
        let waiting = zelf.waiters.borrow().len();
        if waiting > 0 {
            extra.push_str(&format!(", waiters:{waiting}"));
        }
        locks_repr(zelf.as_object(), &extra, vm)
    }
}

/// The awaitable `async with cond` enters with: `Lock.acquire()` giving None.
#[pyclass(module = "asyncio", name = "ConditionEnter")]
#[derive(Debug, PyPayload)]
pub struct PyCondEnter {
    /// The condition's lock.
    lock: PyRef<PyLock>,
    /// Set once the task has queued for the lock: the next resume means it was handed over.
    parked: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyCondEnter {}

impl SelfIter for PyCondEnter {}

impl IterNext for PyCondEnter {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if zelf.parked.get() {
            zelf.lock.take_handed();
            return Ok(PyIterReturn::StopIteration(None));
        }
        let cur = current_task(vm)?;
        if PyLock::acquire_or_queue(&zelf.lock, &cur) {
            return Ok(PyIterReturn::StopIteration(None));
        }
        zelf.parked.set(true);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

/// Where a `wait()` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not awaited yet.
    Start,
    /// Parked in the condition's queue under this key.
    Parked(WaitKey),
    /// Queued for the lock; resumed normally, it was handed the lock.
    Relocking,
    /// Returned or raised.
    Done,
}

/// The awaitable `Condition.wait()` returns (CPython's coroutine).
#[pyclass(module = "asyncio", name = "ConditionWait")]
#[derive(Debug, PyPayload)]
pub struct PyConditionWait {
    /// The condition.
    cond: PyRef<PyCondition>,
    /// Where it stands.
    phase: Cell<Phase>,
    /// Thrown in while parked: raised once the lock is held again.
    error: RefCell<Option<PyBaseExceptionRef>>,
    /// Cancelled while queued for the lock: a new CancelledError is raised once it is held.
    cancelled: Cell<bool>,
}

impl PyConditionWait {
    fn new(cond: PyRef<PyCondition>, vm: &VirtualMachine) -> PyRef<Self> {
        PyConditionWait { cond, phase: Cell::new(Phase::Start), error: RefCell::new(None), cancelled: Cell::new(false) }
            .into_ref(&vm.ctx)
    }

    /// Takes the lock again: at once if free (and the wait ends), else queued for it.
    fn relock(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let lock = self.cond.lock(vm)?;
        let cur = current_task(vm)?;
        if PyLock::acquire_or_queue(&lock, &cur) {
            return self.finish(vm);
        }
        self.phase.set(Phase::Relocking);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }

    /// The lock is held again: True, or what ended the wait.
    fn finish(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        self.phase.set(Phase::Done);
        let error = self.error.borrow_mut().take();
        if self.cancelled.get() {
            return Err(super::new_cancelled_error(vm));
        }
        match error {
            Some(error) => Err(error),
            None => Ok(PyIterReturn::StopIteration(Some(vm.ctx.new_bool(true).into()))),
        }
    }

    /// One step of the wait, as `__next__` and a wrapping `wait_for()` take it.
    fn step(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        match self.phase.get() {
            Phase::Start => {
                let lock = self.cond.lock(vm)?;
                if !lock.is_held() {
                    self.phase.set(Phase::Done);
                    return Err(vm.new_runtime_error("cannot wait on un-acquired lock"));
                }
                let cur = current_task(vm)?;
                PyLock::release_native(&lock, vm)?;
                let key = self.cond.waiters.borrow_mut().push_back(cur.clone());
                cur.set_wait(Wait::Site(self.cond.clone().into(), key, &SITE));
                self.phase.set(Phase::Parked(key));
                Ok(PyIterReturn::Return(vm.ctx.none()))
            }
            // Notified (which took the task out of the queue; anything else that woke it did not).
            Phase::Parked(key) => {
                site_remove(self.cond.as_object(), key);
                self.relock(vm)
            }
            // Handed the lock.
            Phase::Relocking => {
                self.cond.lock(vm)?.take_handed();
                self.finish(vm)
            }
            Phase::Done => Err(reused(vm)),
        }
    }

    /// An exception thrown in at the await (a cancellation, mostly): the lock is taken again
    /// before it goes on, as CPython's `wait()` does in its `finally`.
    fn throw_in(&self, exc: PyBaseExceptionRef, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        match self.phase.get() {
            Phase::Parked(key) => {
                // Cancelling took the task out of the queue; anything else thrown in did not.
                site_remove(self.cond.as_object(), key);
                *self.error.borrow_mut() = Some(exc);
                self.relock(vm)
            }
            // Cancelled while queued for the lock: the scheduler took it out of the lock's
            // queue (or passed on a lock it was handed); queue again.
            Phase::Relocking if is_cancelled(&exc, vm) => {
                self.cancelled.set(true);
                self.relock(vm)
            }
            _ => {
                self.phase.set(Phase::Done);
                Err(exc)
            }
        }
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyConditionWait {
    /// See [`PyConditionWait::throw_in`].
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        yielded(zelf.throw_in(super::fastpath::thrown(typ, val, tb, vm), vm), vm)
    }
}

/// What a `throw()` returns for a step: the value yielded, or the exception (the step never
/// finishes with a value there).
fn yielded(step: PyResult<PyIterReturn>, vm: &VirtualMachine) -> PyResult {
    match step? {
        PyIterReturn::Return(value) => Ok(value),
        PyIterReturn::StopIteration(value) => {
            Err(vm.new_stop_iteration(value))
        }
    }
}

impl SelfIter for PyConditionWait {}

impl IterNext for PyConditionWait {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        zelf.step(vm)
    }
}

/// The awaitable `Condition.wait_for(predicate)` returns (CPython's coroutine): calls the
/// predicate, and while it is false waits and calls it again.
#[pyclass(module = "asyncio", name = "ConditionWaitFor")]
#[derive(Debug, PyPayload)]
pub struct PyConditionWaitFor {
    /// The condition.
    cond: PyRef<PyCondition>,
    /// What to call.
    predicate: PyObjectRef,
    /// The `wait()` in progress.
    inner: RefCell<Option<PyRef<PyConditionWait>>>,
    /// Returned or raised.
    done: Cell<bool>,
}

impl PyConditionWaitFor {
    /// Steps the `wait()` in progress; when it returns (or none is), calls the predicate and
    /// waits again while it is false.
    fn step(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let outcome = self.run(vm);
        if !matches!(outcome, Ok(PyIterReturn::Return(_))) {
            self.done.set(true);
            let inner = self.inner.borrow_mut().take();
            drop(inner);
        }
        outcome
    }

    fn run(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        loop {
            let inner = self.inner.borrow().clone();
            if let Some(inner) = inner {
                if let PyIterReturn::Return(value) = inner.step(vm)? {
                    return Ok(PyIterReturn::Return(value));
                }
            }
            let result = self.predicate.call((), vm)?;
            if result.clone().try_to_bool(vm)? {
                return Ok(PyIterReturn::StopIteration(Some(result)));
            }
            let wait = PyConditionWait::new(self.cond.clone(), vm);
            let old = self.inner.borrow_mut().replace(wait);
            drop(old);
        }
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyConditionWaitFor {
    /// Throws into the `wait()` in progress (which takes the lock again first).
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        let exc = super::fastpath::thrown(typ, val, tb, vm);
        let inner = zelf.inner.borrow().clone();
        let outcome = match inner {
            Some(inner) => inner.throw_in(exc, vm),
            None => Err(exc),
        };
        if !matches!(outcome, Ok(PyIterReturn::Return(_))) {
            zelf.done.set(true);
            let inner = zelf.inner.borrow_mut().take();
            drop(inner);
        }
        yielded(outcome, vm)
    }
}

impl SelfIter for PyConditionWaitFor {}

impl IterNext for PyConditionWaitFor {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if zelf.done.get() {
            return Err(reused(vm));
        }
        zelf.step(vm)
    }
}
