//! `Lock`, as in MicroPython's `extmod/asyncio/lock.py`: FIFO hand-off to waiting tasks.

use std::cell::{Cell, RefCell};

use microloop_core::{WaitKey, WaitQueue};
use rustpython_vm::{
    Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::PyType,
    function::PosArgs,
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, IterNext, Iterable, SelfIter},
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

impl Constructor for PyLock {
    type Args = ();
    fn py_new(_cls: &Py<PyType>, _args: (), _vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PyLock { state: Cell::new(LockState::Free), waiters: RefCell::new(WaitQueue::new()) })
    }
}

#[pyclass(with(Constructor))]
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

    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyLockAcquire> {
        PyLock::acquire(zelf, vm)
    }

    #[pymethod]
    fn __aexit__(zelf: PyRef<Self>, _args: PosArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        PyLock::release(zelf, vm)?;
        Ok(super::done_awaitable(vm))
    }
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
