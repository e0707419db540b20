//! `Lock`, as in MicroPython's `extmod/asyncio/lock.py`: FIFO hand-off to waiting tasks.

use std::cell::{Cell, RefCell};

use microloop_core::{WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    function::PosArgs,
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, SelfIter},
};

use super::core::{Scheduler, current_task, sched};
use super::task::{PyTask, Wait};

/// Who has the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockState {
    /// Nobody: `acquire` takes it at once.
    Free,
    /// A task holds it: `locked()` is True and `release` is allowed.
    Held,
    /// `release` handed it to the oldest waiter, which has not run yet. Others still queue, but
    /// as in MicroPython `locked()` is False and `release` raises until the new owner runs.
    Granted,
}

/// A mutual-exclusion lock for tasks. `release()` hands the lock straight to the oldest waiter,
/// so a task that arrives later cannot overtake the queue.
///
/// Subclassable, with an instance dict made on the first attribute set. Where MicroPython's
/// Python class calls its own methods by name, a subclass's overrides are called too:
/// `async with` calls `acquire()` and `release()`, and a task cancelled after `release()`
/// handed it the lock calls `release()` to pass it on.
#[pyclass(module = "asyncio", name = "Lock")]
#[derive(Debug, PyPayload)]
pub struct PyLock {
    /// Who has the lock.
    state: Cell<LockState>,
    /// Tasks in `acquire()`, oldest first.
    waiters: RefCell<WaitQueue<PyRef<PyTask>>>,
}

impl PyLock {
    /// Takes out the waiter `key` was given for (its task was cancelled or timed out).
    pub(crate) fn remove_waiter(&self, key: WaitKey) {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = self.waiters.borrow_mut().remove(key);
        drop(removed);
    }

    /// Whether `obj` is a plain Lock, whose methods nobody overrides.
    #[inline]
    fn is_exact(obj: &Py<Self>, vm: &VirtualMachine) -> bool {
        obj.class().is(PyLock::class(&vm.ctx))
    }

    /// `task`, handed the lock by `release()`, was cancelled before it ran: MicroPython's
    /// `acquire()` then takes the lock and calls `self.release()`, so the next waiter gets it.
    /// A subclass's `release()` is called as there, with `task` current (the loop is about to
    /// resume it); what it raises replaces the CancelledError the task is about to receive.
    pub(crate) fn cancelled_while_granted(zelf: &PyRef<Self>, task: &PyRef<PyTask>, s: &Scheduler, vm: &VirtualMachine) {
        if PyLock::is_exact(zelf, vm) {
            PyLock::pass_on(zelf, s);
            return;
        }
        zelf.state.set(LockState::Held);
        let prev = s.cur_task.borrow_mut().replace(task.clone());
        let released = vm.call_method(zelf.as_object(), "release", ());
        let ours = std::mem::replace(&mut *s.cur_task.borrow_mut(), prev);
        drop(ours);
        if let Err(exc) = released {
            task.set_pending(exc);
        }
    }

    /// Whether a task holds the lock (`locked()`), for Condition (condition.rs), which checks it
    /// before `wait()` and `notify()`.
    pub(crate) fn is_held(&self) -> bool {
        self.state.get() == LockState::Held
    }

    /// `release()` from Rust (Condition's `wait()` and `async with`), with its RuntimeError
    /// when the lock is not held.
    pub(crate) fn release_native(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.state.get() != LockState::Held {
            return Err(vm.new_runtime_error("Lock not acquired"));
        }
        PyLock::pass_on(zelf, &sched());
        Ok(())
    }

    /// `acquire()` from Rust for `task`: takes the lock if it is free and returns true, or
    /// queues `task` as `acquire()` does and returns false; the task then owns the lock when it
    /// next runs without an exception, and calls [`PyLock::take_handed`].
    pub(crate) fn acquire_or_queue(zelf: &PyRef<Self>, task: &PyRef<PyTask>) -> bool {
        if zelf.state.get() == LockState::Free {
            zelf.state.set(LockState::Held);
            return true;
        }
        let key = zelf.waiters.borrow_mut().push_back(task.clone());
        task.set_wait(Wait::Lock(zelf.clone(), key));
        false
    }

    /// The task [`PyLock::acquire_or_queue`] queued runs again: `release()` handed it the lock.
    pub(crate) fn take_handed(&self) {
        self.state.set(LockState::Held);
    }

    /// Gives the lock to the next waiter, or unlocks it if none waits.
    pub(crate) fn pass_on(zelf: &Py<Self>, s: &Scheduler) {
        let next = zelf.waiters.borrow_mut().pop_front();
        match next {
            Some(task) => {
                s.push_ready(task.clone());
                task.set_wait(Wait::LockGranted(zelf.to_owned()));
                zelf.state.set(LockState::Granted);
            }
            None => zelf.state.set(LockState::Free),
        }
    }
}

// `Lock()` and `__init__`, for subclasses too.
super::no_argument_class!(PyLock);

impl PyLock {
    fn fresh() -> Self {
        PyLock { state: Cell::new(LockState::Free), waiters: RefCell::new(WaitQueue::new()) }
    }

    /// `Lock.__init__()`, which a subclass's `__init__` calls through `super()`: unlocks the
    /// lock, as MicroPython's does, unless tasks queue for it (they keep their places;
    /// MicroPython's forgets them, never to wake them).
    fn reinit(&self) {
        if self.waiters.borrow().is_empty() {
            self.state.set(LockState::Free);
        }
    }
}

#[pyclass(with(Constructor, Initializer), flags(BASETYPE, HAS_DICT))]
impl PyLock {
    /// True while the lock is held.
    #[pymethod]
    fn locked(zelf: &Py<Self>) -> bool {
        zelf.state.get() == LockState::Held
    }

    /// Waits until the lock is free and takes it; returns True.
    #[pymethod]
    fn acquire(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyLockAcquire> {
        PyLockAcquire { lock: zelf, yielded: Cell::new(false) }.into_ref(&vm.ctx)
    }

    /// Releases the lock; the oldest waiting task gets it next. RuntimeError if not locked.
    #[pymethod]
    fn release(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.state.get() != LockState::Held {
            return Err(vm.new_runtime_error("Lock not acquired"));
        }
        PyLock::pass_on(&zelf, &sched());
        Ok(())
    }

    /// `async with lock`: awaits `acquire()` (a subclass's own, if it has one).
    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if PyLock::is_exact(&zelf, vm) {
            return Ok(PyLock::acquire(zelf, vm).into());
        }
        let acquiring = vm.call_method(zelf.as_object(), "acquire", ())?;
        if !awaitable(&acquiring, vm) {
            // MicroPython's `__aenter__` awaits it, which is `yield from`.
            return Err(vm.new_type_error(format!("'{}' object isn't iterable", acquiring.class().name())));
        }
        Ok(acquiring)
    }

    /// The end of `async with lock`: calls `release()` (a subclass's own, if it has one); what
    /// it returns is the awaitable's value, which suppresses the exception when true.
    #[pymethod]
    fn __aexit__(zelf: PyRef<Self>, _args: PosArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if PyLock::is_exact(&zelf, vm) {
            PyLock::release(zelf, vm)?;
            return Ok(super::done_awaitable(vm));
        }
        let value = vm.call_method(zelf.as_object(), "release", ())?;
        Ok(super::done_awaitable_with(value, vm))
    }
}

/// Whether `await obj` takes `obj`, judged without calling anything, as the VM's `await` judges:
/// a coroutine or generator, an object with `__await__`, an instance of a Python class with
/// `__iter__`.
fn awaitable(obj: &PyObjectRef, vm: &VirtualMachine) -> bool {
    use rustpython_vm::builtins::{PyAsyncGen, PyCoroutine, PyGenerator};
    use rustpython_vm::types::PyTypeFlags;
    let cls = obj.class();
    obj.downcastable::<PyCoroutine>()
        || obj.downcastable::<PyGenerator>()
        || obj.downcastable::<PyAsyncGen>()
        || cls.has_attr(rustpython_vm::identifier!(vm, __await__))
        || (cls.slots.flags.has_feature(PyTypeFlags::HEAPTYPE) && cls.slots.iter.load().is_some())
}

/// The awaitable `Lock.acquire()` returns.
#[pyclass(module = "asyncio", name = "LockAcquire")]
#[derive(Debug, PyPayload)]
pub struct PyLockAcquire {
    /// The lock wanted.
    lock: PyRef<PyLock>,
    /// Set once the task has queued: the next resume means the lock was handed over.
    yielded: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyLockAcquire {}

impl SelfIter for PyLockAcquire {}

impl IterNext for PyLockAcquire {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let lock = &zelf.lock;
        if zelf.yielded.get() || lock.state.get() == LockState::Free {
            lock.state.set(LockState::Held);
            return Ok(PyIterReturn::StopIteration(Some(vm.ctx.new_bool(true).into())));
        }
        let cur = current_task(vm)?;
        let key = lock.waiters.borrow_mut().push_back(cur.clone());
        cur.set_wait(Wait::Lock(lock.clone(), key));
        zelf.yielded.set(true);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}
