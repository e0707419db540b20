//! `sleep`, `wait_for` and `gather`, as in MicroPython's `core.py` and `funcs.py`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rustpython_vm::{
    AsObject,
    Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::PyBaseExceptionRef,
    protocol::PyIterReturn,
    pyclass,
    types::{IterNext, Iterable, SelfIter},
};

use super::core::{Scheduler, current_task, sched, with_current};
use super::task::{PyTask, Wait, Waiter};

/// The awaitable `sleep`/`sleep_ms` return. One per thread is reused, as MicroPython reuses its
/// singleton generator: `delay` is armed by the call and consumed by the first `__next__`, and
/// the task's `slept` flag marks the resume that ends the sleep. A second call made while the
/// singleton is still armed (a sleep created and not yet awaited) gets an object of its own.
#[pyclass(module = "asyncio", name = "sleep")]
#[derive(Debug, PyPayload)]
pub struct PySleep {
    /// Microseconds to sleep, from the call until the await parks the task.
    delay: Cell<Option<u64>>,
}

thread_local! {
    static SLEEP: RefCell<Option<PyRef<PySleep>>> = const { RefCell::new(None) };
}

impl PySleep {
    /// A sleep of `delay_us`, on the shared object when it is free.
    pub fn make(delay_us: u64, vm: &VirtualMachine) -> PyRef<PySleep> {
        SLEEP.with(|cell| {
            let mut cell = cell.borrow_mut();
            let shared = cell.get_or_insert_with(|| PySleep { delay: Cell::new(None) }.into_ref(&vm.ctx));
            if shared.delay.get().is_none() {
                shared.delay.set(Some(delay_us));
                shared.clone()
            } else {
                PySleep { delay: Cell::new(Some(delay_us)) }.into_ref(&vm.ctx)
            }
        })
    }

    /// Drops the shared object (with the interpreter it belongs to).
    pub fn forget_shared() {
        SLEEP.with(|cell| cell.borrow_mut().take());
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PySleep {}

impl SelfIter for PySleep {}

impl IterNext for PySleep {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        with_current(vm, |sched, cur| {
            if cur.slept.replace(false) {
                return PyIterReturn::StopIteration(None);
            }
            let Some(delay) = zelf.delay.take() else {
                return PyIterReturn::StopIteration(None);
            };
            cur.slept.set(true);
            sched.park_for(cur.clone(), delay);
            PyIterReturn::Return(vm.ctx.none())
        })
    }
}

/// Wraps `aw` in a task unless it is one.
pub(crate) fn promote_to_task(aw: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
    match aw.downcast::<PyTask>() {
        Ok(task) => Ok(task),
        Err(aw) => PyTask::spawn(aw, vm),
    }
}

/// Where a `wait_for` stands.
#[derive(Debug)]
enum WaitForPhase {
    /// Created, not awaited yet.
    Start { timeout_us: Option<u64> },
    /// Waiting for the task, with the timer running.
    Waiting,
    /// The timeout fired: the task was cancelled and we wait for it to wind down.
    TimedOut,
}

/// The awaitable `wait_for` returns: runs `task` and cancels it at the timeout.
#[pyclass(module = "asyncio", name = "wait_for")]
#[derive(Debug, PyPayload)]
pub struct PyWaitFor {
    /// The awaited work, promoted to a task.
    task: PyRef<PyTask>,
    /// Progress through the timeout protocol.
    phase: RefCell<WaitForPhase>,
}

impl PyWaitFor {
    pub fn new(aw: PyObjectRef, timeout_us: Option<u64>, vm: &VirtualMachine) -> PyResult<PyRef<Self>> {
        let task = promote_to_task(aw, vm)?;
        let phase = RefCell::new(WaitForPhase::Start { timeout_us });
        Ok(PyWaitFor { task, phase }.into_ref(&vm.ctx))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyWaitFor {}

impl SelfIter for PyWaitFor {}

impl IterNext for PyWaitFor {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let task = &zelf.task;
        let phase = std::mem::replace(&mut *zelf.phase.borrow_mut(), WaitForPhase::Waiting);
        if task.is_done() {
            if matches!(phase, WaitForPhase::TimedOut) {
                task.mark_retrieved();
                return Err(vm.invoke_exception(vm.ctx.exceptions.timeout_error.to_owned(), vec![])?);
            }
            return task.take_result(vm).map(|v| PyIterReturn::StopIteration(Some(v)));
        }
        let cur = current_task(vm)?;
        let s = sched();
        let waiter = task.add_waiter(Waiter::Task(cur.clone()));
        match phase {
            WaitForPhase::Start { timeout_us: None } => cur.set_wait(Wait::Task(task.clone(), waiter)),
            WaitForPhase::Start { timeout_us: Some(t) } => {
                let deadline = s.now_us().saturating_add(t);
                let key = s.timers.borrow_mut().push(deadline, cur.clone());
                cur.set_wait(Wait::TaskTimeout(task.clone(), key, waiter));
            }
            WaitForPhase::Waiting => {
                // Woken by the timer: cancel the task and wait for it to finish cancelling.
                PyTask::cancel_task(task, vm)?;
                cur.set_wait(Wait::Task(task.clone(), waiter));
                *zelf.phase.borrow_mut() = WaitForPhase::TimedOut;
            }
            WaitForPhase::TimedOut => {
                cur.set_wait(Wait::Task(task.clone(), waiter));
                *zelf.phase.borrow_mut() = WaitForPhase::TimedOut;
            }
        }
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

/// The shared record of one `gather`: its children and the task waiting for them.
#[derive(Debug)]
pub(crate) struct GatherState {
    /// The gathered tasks, in argument order.
    children: Vec<PyRef<PyTask>>,
    /// Children not finished yet.
    remaining: Cell<usize>,
    /// Put exceptions in the result list instead of raising the first one.
    return_exceptions: bool,
    /// The first exception, when `return_exceptions` is false.
    error: RefCell<Option<PyBaseExceptionRef>>,
    /// Whether the outcome is decided.
    finished: Cell<bool>,
    /// The task awaiting the gather.
    waiter: RefCell<Option<PyRef<PyTask>>>,
}

impl GatherState {
    pub(crate) fn clear_waiter(&self) {
        self.waiter.borrow_mut().take();
    }

    /// Children still running (cancelled along with the gather).
    pub(crate) fn pending_children(&self) -> Vec<PyRef<PyTask>> {
        self.children.iter().filter(|c| !c.is_done()).cloned().collect()
    }

    /// Called when a child finishes.
    pub(crate) fn child_done(&self, s: &Scheduler, child: &PyRef<PyTask>, _vm: &VirtualMachine) {
        child.mark_retrieved();
        if self.finished.get() {
            return;
        }
        match child.exception() {
            Some(e) if !self.return_exceptions => {
                *self.error.borrow_mut() = Some(e);
                self.finished.set(true);
            }
            _ => {
                self.remaining.set(self.remaining.get() - 1);
                self.finished.set(self.remaining.get() == 0);
            }
        }
        if self.finished.get() {
            let waiter = self.waiter.borrow_mut().take();
            if let Some(task) = waiter {
                s.wake(task);
            }
        }
    }

    /// The gather's outcome: the list of results, or the first exception.
    fn outcome(&self, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if let Some(e) = self.error.borrow().clone() {
            return Err(e);
        }
        let results = self
            .children
            .iter()
            .map(|c| match c.take_result(vm) {
                Ok(v) => v,
                Err(e) => e.into(),
            })
            .collect();
        Ok(vm.ctx.new_list(results).into())
    }
}

/// The awaitable `gather` returns.
#[pyclass(module = "asyncio", name = "gather")]
#[derive(Debug, PyPayload)]
pub struct PyGather {
    /// Shared with the children's waiter lists.
    state: Rc<GatherState>,
}

impl PyGather {
    pub fn new(aws: Vec<PyObjectRef>, return_exceptions: bool, vm: &VirtualMachine) -> PyResult<PyRef<Self>> {
        let children = aws.into_iter().map(|aw| promote_to_task(aw, vm)).collect::<PyResult<Vec<_>>>()?;
        let state = Rc::new(GatherState {
            remaining: Cell::new(children.len()),
            finished: Cell::new(children.is_empty()),
            children,
            return_exceptions,
            error: RefCell::new(None),
            waiter: RefCell::new(None),
        });
        let s = sched();
        for child in &state.children {
            if child.is_done() {
                state.child_done(&s, child, vm);
            } else {
                child.add_waiter(Waiter::Gather(state.clone()));
            }
        }
        Ok(PyGather { state }.into_ref(&vm.ctx))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyGather {}

impl SelfIter for PyGather {}

impl IterNext for PyGather {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let state = &zelf.state;
        if state.finished.get() {
            return state.outcome(vm).map(|v| PyIterReturn::StopIteration(Some(v)));
        }
        let cur = current_task(vm)?;
        if state.waiter.borrow().as_ref().is_some_and(|w| !w.is(&cur)) {
            return Err(vm.new_runtime_error("gather awaited twice"));
        }
        *state.waiter.borrow_mut() = Some(cur.clone());
        cur.set_wait(Wait::Gather(state.clone()));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}
