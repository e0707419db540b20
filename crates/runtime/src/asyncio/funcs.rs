//! `sleep`, `wait_for` and `gather`, as in MicroPython's `core.py` and `funcs.py`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use microloop_core::WaitKey;
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::PyBaseExceptionRef,
    function::OptionalArg,
    protocol::PyIterReturn,
    pyclass,
    types::{IterNext, Iterable, SelfIter},
};

use super::core::{Scheduler, current_task, sched, with_current};
use super::task::{NativeCoro, PyTask, Wait, Waiter};

/// The awaitable `sleep`/`sleep_ms` return. One per thread is reused, as MicroPython reuses its
/// singleton generator: `delay` is armed by the call and consumed by the first `__next__`, and
/// the task's `slept` flag marks the resume that ends the sleep. A second call made while the
/// singleton is still armed (a sleep created and not yet awaited) gets an object of its own.
#[pyclass(module = "asyncio", name = "sleep")]
#[derive(Debug, PyPayload)]
pub struct PySleep {
    /// Microseconds to sleep, from the call until the await parks the task.
    delay: Cell<Option<u64>>,
    /// CPython's `sleep(delay, result)`: the value the await gives (never on the shared object).
    result: Option<PyObjectRef>,
}

thread_local! {
    static SLEEP: RefCell<Option<PyRef<PySleep>>> = const { RefCell::new(None) };
}

impl PySleep {
    /// A sleep of `delay_us`, on the shared object when it is free.
    pub fn make(delay_us: u64, vm: &VirtualMachine) -> PyRef<PySleep> {
        SLEEP.with(|cell| {
            let mut cell = cell.borrow_mut();
            let shared = cell.get_or_insert_with(|| PySleep { delay: Cell::new(None), result: None }.into_ref(&vm.ctx));
            if shared.delay.get().is_none() {
                shared.delay.set(Some(delay_us));
                shared.clone()
            } else {
                PySleep { delay: Cell::new(Some(delay_us)), result: None }.into_ref(&vm.ctx)
            }
        })
    }

    /// A sleep of `delay_us` whose await gives `result` (CPython's `sleep(delay, result)`).
    pub fn with_result(delay_us: u64, result: PyObjectRef, vm: &VirtualMachine) -> PyRef<PySleep> {
        PySleep { delay: Cell::new(Some(delay_us)), result: Some(result) }.into_ref(&vm.ctx)
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
                return PyIterReturn::StopIteration(zelf.result.clone());
            }
            let Some(delay) = zelf.delay.take() else {
                return PyIterReturn::StopIteration(zelf.result.clone());
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

/// Where a `wait_for` stands, for the task that awaits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaitForPhase {
    /// Created, not awaited yet: the awaitable is not a task yet.
    Start,
    /// No timeout: awaiting the task itself.
    Direct,
    /// Sleeping for the timeout while the runner awaits the task.
    Sleeping,
    /// The timeout passed: the runner was cancelled and is awaited.
    AwaitRunner,
    /// The runner handed over the task's outcome while the caller slept; the caller has not
    /// run since.
    Handed,
    /// Returned or raised.
    Done,
}

/// Where `wait_for`'s runner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunnerPhase {
    /// Queued, not run yet.
    Start,
    /// Awaiting the task.
    Awaiting,
}

/// What `wait_for` and its runner share: MicroPython's `wait_for` coroutine and its `_run`
/// helper task. The caller sleeps for the timeout while the runner awaits the task; the runner,
/// when the task ends first, cancels the sleep and hands over the outcome; the timeout, when
/// it passes first, cancels the runner (and with it the task) and waits for it to finish.
#[derive(Debug)]
pub(crate) struct WaitForState {
    /// The awaitable, until the first step promotes it to a task.
    aw: RefCell<Option<PyObjectRef>>,
    /// The awaited work as a task.
    task: RefCell<Option<PyRef<PyTask>>>,
    /// The timeout as given, and whether it is in milliseconds (`wait_for_ms`); checked at the
    /// first step, as MicroPython's coroutine does.
    timeout: RefCell<Option<(PyObjectRef, bool)>>,
    /// The task awaiting the `wait_for`.
    waiter: RefCell<Option<PyRef<PyTask>>>,
    /// The runner task.
    runner: RefCell<Option<PyRef<PyTask>>>,
    /// The caller's progress.
    phase: Cell<WaitForPhase>,
    /// The runner's progress.
    runner_phase: Cell<RunnerPhase>,
    /// The outcome the runner handed over (phase `Handed`).
    handed: RefCell<Option<Result<PyObjectRef, PyBaseExceptionRef>>>,
}

impl WaitForState {
    fn task(&self) -> PyRef<PyTask> {
        self.task.borrow().clone().expect("wait_for has started")
    }

    fn runner(&self) -> PyRef<PyTask> {
        self.runner.borrow().clone().expect("wait_for's runner exists")
    }

    /// One step of the runner task (MicroPython's `_run(waiter, aw)`). When it ends, it lets go
    /// of the task and the waiter, and the waiter lets go of it when the `wait_for` ends, so no
    /// reference cycle outlives the two (the collector cannot see into a task).
    pub(crate) fn runner_step(&self, me: &PyTask, thrown: Option<PyBaseExceptionRef>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let result = self.runner_body(me, thrown, vm);
        if !matches!(result, Ok(PyIterReturn::Return(_))) {
            self.task.borrow_mut().take();
            self.waiter.borrow_mut().take();
        }
        result
    }

    fn runner_body(&self, me: &PyTask, thrown: Option<PyBaseExceptionRef>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let task = self.task();
        let outcome = match (self.runner_phase.get(), thrown) {
            // Cancelled before its first step: the coroutine never starts.
            (RunnerPhase::Start, Some(exc)) => return Err(exc),
            (RunnerPhase::Awaiting, Some(exc)) => Err(exc),
            (RunnerPhase::Start, None) => {
                if !task.is_done() {
                    if task.in_gather() {
                        Err(vm.new_runtime_error("can't wait"))
                    } else {
                        let me = me_ref(me, vm)?;
                        let key = task.add_waiter(Waiter::Task(me.clone()));
                        me.set_wait(Wait::Task(task.clone(), key));
                        self.runner_phase.set(RunnerPhase::Awaiting);
                        return Ok(PyIterReturn::Return(vm.ctx.none()));
                    }
                } else {
                    task.take_result(vm)
                }
            }
            (RunnerPhase::Awaiting, None) => task.take_result(vm),
        };
        let waiter = self.waiter.borrow().clone().expect("wait_for has a waiter");
        if waiter.is_done() || !waiter.is_queued_plain() {
            // The caller was cancelled from outside meanwhile, or is already awake.
            return Ok(PyIterReturn::StopIteration(None));
        }
        if self.phase.get() == WaitForPhase::Sleeping {
            // The caller still sleeps in this wait_for: MicroPython cancels the sleep with a
            // CancelledError carrying the outcome, which this wait_for catches at once. The
            // same steps without the exception: the caller is queued as a cancellation
            // queues it, and finds the outcome when it runs.
            PyTask::requeue_now(&waiter, &sched());
            waiter.handed.set(true);
            *self.handed.borrow_mut() = Some(outcome);
            self.phase.set(WaitForPhase::Handed);
        } else if PyTask::cancel_task(&waiter, vm)? {
            // A runner that outlived its wait_for, and the task sleeps elsewhere: it gets the
            // CancelledError with the outcome in its arguments, as MicroPython's does.
            let (status, result) = match &outcome {
                Ok(value) => (vm.ctx.new_bool(true).into(), value.clone()),
                Err(e) => (e.clone().into(), vm.ctx.none()),
            };
            waiter.set_pending(vm.new_exception(super::cancelled_error_type(vm), vec![status, result]));
        }
        Ok(PyIterReturn::StopIteration(None))
    }
}

/// The running task as an owned reference (it is `me` while the runner steps).
fn me_ref(me: &PyTask, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
    let cur = current_task(vm)?;
    debug_assert!(std::ptr::eq(&*cur as &PyTask, me));
    Ok(cur)
}

/// The awaitable `wait_for` returns (MicroPython's `wait_for` coroutine).
#[pyclass(module = "asyncio", name = "wait_for")]
#[derive(Debug, PyPayload)]
pub struct PyWaitFor {
    state: Rc<WaitForState>,
}

impl PyWaitFor {
    pub fn new(aw: PyObjectRef, timeout: PyObjectRef, in_ms: bool, vm: &VirtualMachine) -> PyResult<PyRef<Self>> {
        let state = Rc::new(WaitForState {
            aw: RefCell::new(Some(aw)),
            task: RefCell::new(None),
            timeout: RefCell::new(Some((timeout, in_ms))),
            waiter: RefCell::new(None),
            runner: RefCell::new(None),
            phase: Cell::new(WaitForPhase::Start),
            runner_phase: Cell::new(RunnerPhase::Start),
            handed: RefCell::new(None),
        });
        Ok(PyWaitFor { state }.into_ref(&vm.ctx))
    }

    fn timeout_error(vm: &VirtualMachine) -> PyBaseExceptionRef {
        vm.new_exception_empty(vm.ctx.exceptions.timeout_error.to_owned())
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyWaitFor {
    /// Raises `exc` into the `wait_for`: the runner's hand-over returns the task's value or
    /// raises its exception; a cancellation from outside cancels the runner and goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let exc = super::fastpath::thrown(typ, val, tb, vm);
        let result = zelf.raise_in(exc, vm);
        zelf.state.runner.borrow_mut().take();
        result
    }

    fn raise_in(&self, exc: PyBaseExceptionRef, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let st = &self.state;
        let phase = st.phase.replace(WaitForPhase::Done);
        st.handed.borrow_mut().take();
        if !matches!(phase, WaitForPhase::Sleeping | WaitForPhase::Handed) {
            return Err(exc);
        }
        if !super::core::is_cancelled(&exc, vm) {
            return Err(exc);
        }
        // As MicroPython's wait_for, the CancelledError's first argument says what it is: None
        // (no arguments) a cancellation from outside, True the task's value in the second,
        // anything else the exception to raise. A runner hands its outcome over this way,
        // and so does a runner of an earlier `wait_for` of this task that outlived it.
        let args = exc.args();
        match args.as_slice().first() {
            None => {
                PyTask::cancel_task(&st.runner(), vm)?;
                Err(exc)
            }
            Some(status) if vm.is_none(status) => {
                PyTask::cancel_task(&st.runner(), vm)?;
                Err(exc)
            }
            Some(status) if status.is(&vm.ctx.true_value) => {
                let value = args.as_slice().get(1).cloned().unwrap_or_else(|| vm.ctx.none());
                // Consumed here, where nobody else sees it: the arguments would keep the value
                // alive for as long as the VM keeps the thrown exception.
                exc.as_object().set_attr("args", vm.ctx.empty_tuple.clone(), vm)?;
                Err(vm.new_stop_iteration(Some(value)))
            }
            Some(status) => match status.clone().downcast::<rustpython_vm::builtins::PyBaseException>() {
                Ok(e) => Err(e),
                Err(_) => Err(vm.new_type_error("exceptions must derive from BaseException")),
            },
        }
    }
}

impl SelfIter for PyWaitFor {}

impl IterNext for PyWaitFor {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let result = PyWaitFor::step(zelf, vm);
        if !matches!(result, Ok(PyIterReturn::Return(_))) {
            zelf.state.runner.borrow_mut().take();
        }
        result
    }
}

impl PyWaitFor {
    fn step(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let st = &zelf.state;
        match st.phase.get() {
            WaitForPhase::Start => {
                let aw = st.aw.borrow_mut().take().expect("wait_for starts once");
                let (timeout, in_ms) = st.timeout.borrow_mut().take().expect("wait_for starts once");
                let task = promote_to_task(aw, vm)?;
                *st.task.borrow_mut() = Some(task.clone());
                if vm.is_none(&timeout) {
                    st.phase.set(WaitForPhase::Direct);
                    return PyTask::await_step(&task, vm);
                }
                let cur = current_task(vm)?;
                *st.waiter.borrow_mut() = Some(cur.clone());
                let runner = PyTask::native(NativeCoro::Runner(st.clone()), vm);
                let s = sched();
                s.push_ready(runner.clone());
                *st.runner.borrow_mut() = Some(runner);
                // The timeout is checked by the sleep, after the runner is queued, as in
                // MicroPython: a bad timeout raises here and the runner goes on.
                let ms = if in_ms { super::core::sleep_ms_arg(&timeout, vm)? } else { super::core::sleep_arg(&timeout, vm)? };
                st.phase.set(WaitForPhase::Sleeping);
                s.park_for(cur, ms.saturating_mul(1000));
                Ok(PyIterReturn::Return(vm.ctx.none()))
            }
            WaitForPhase::Direct => PyTask::await_step(&st.task(), vm),
            WaitForPhase::Sleeping => {
                // The timeout passed first: cancel the runner, then wait for it to end.
                let runner = st.runner();
                PyTask::cancel_task(&runner, vm)?;
                st.phase.set(WaitForPhase::AwaitRunner);
                match PyTask::await_step(&runner, vm)? {
                    PyIterReturn::StopIteration(_) => Err(PyWaitFor::timeout_error(vm)),
                    parked => Ok(parked),
                }
            }
            WaitForPhase::AwaitRunner => match PyTask::await_step(&st.runner(), vm)? {
                PyIterReturn::StopIteration(_) => Err(PyWaitFor::timeout_error(vm)),
                parked => Ok(parked),
            },
            WaitForPhase::Handed => {
                st.phase.set(WaitForPhase::Done);
                match st.handed.borrow_mut().take() {
                    Some(Ok(value)) => Ok(PyIterReturn::StopIteration(Some(value))),
                    Some(Err(e)) => Err(e),
                    None => Ok(PyIterReturn::StopIteration(None)),
                }
            }
            WaitForPhase::Done => Ok(PyIterReturn::StopIteration(None)),
        }
    }
}

/// The shared record of one `gather` once it has started (MicroPython's `gather` generator
/// and its `done` callback): its children and the task waiting for them.
#[derive(Debug)]
pub(crate) struct GatherState {
    /// The gathered tasks, in argument order, each with the key of the gather's entry among
    /// its waiters while the gather still listens for its end.
    children: RefCell<Vec<(PyRef<PyTask>, Option<WaitKey>)>>,
    /// Children still to finish; negative when a child had failed before the gather began
    /// (MicroPython's integer `state`).
    remaining: Cell<isize>,
    /// The exception that ends the gather: a child's, or the CancelledError thrown into it
    /// (MicroPython's `state` when it holds an exception).
    error: RefCell<Option<PyBaseExceptionRef>>,
    /// Put exceptions in the result list instead of raising the first one.
    return_exceptions: bool,
    /// Whether the gather waits in its `yield` (MicroPython: `gather_task.data is _Remove`).
    waiting: Cell<bool>,
    /// The task awaiting the gather.
    task: RefCell<Option<PyRef<PyTask>>>,
}

impl GatherState {
    /// The children the gather still waits for, in argument order (for the task monitor).
    pub(crate) fn pending_children(&self) -> Vec<PyRef<PyTask>> {
        self.children.borrow().iter().filter(|(_, key)| key.is_some()).map(|(child, _)| child.clone()).collect()
    }

    /// The gather is no longer waiting: a child's end will not push its task.
    pub(crate) fn clear_waiter(&self) {
        self.waiting.set(false);
    }

    /// Called when child `index` finishes (MicroPython's `done(t, er)`).
    pub(crate) fn child_done(&self, s: &Scheduler, index: usize, child: &PyRef<PyTask>, _vm: &VirtualMachine) {
        if let Some(entry) = self.children.borrow_mut().get_mut(index) {
            entry.1 = None;
        }
        if !self.waiting.get() {
            return;
        }
        match child.exception() {
            Some(e) if !self.return_exceptions => *self.error.borrow_mut() = Some(e),
            _ => {
                self.remaining.set(self.remaining.get() - 1);
                if self.remaining.get() > 0 {
                    return;
                }
            }
        }
        self.waiting.set(false);
        let task = self.task.borrow().clone();
        if let Some(task) = task {
            s.wake(task);
        }
    }

    /// Ends the gather: stops listening to the children still running (cancelling them if
    /// the gather was cancelled), then gives the list of results or raises.
    fn finish(&self, cancel_all: bool, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let children = std::mem::take(&mut *self.children.borrow_mut());
        let mut results = Vec::with_capacity(children.len());
        let mut error = self.error.borrow_mut().take();
        for (child, key) in children {
            if let Some(key) = key {
                child.remove_waiter(key);
                if cancel_all {
                    PyTask::cancel_task(&child, vm)?;
                }
                results.push(child.into());
                continue;
            }
            match child.outcome() {
                Some(Ok(v)) => results.push(v),
                Some(Err(e)) => {
                    if self.return_exceptions {
                        results.push(e.into());
                    } else if error.is_none() {
                        error = Some(e);
                    }
                }
                None => results.push(child.into()),
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(PyIterReturn::StopIteration(Some(vm.ctx.new_list(results).into()))),
        }
    }
}

/// The awaitable `gather` returns. As MicroPython's `gather` is a generator, nothing happens
/// until it is first awaited: then the awaitables become tasks.
#[pyclass(module = "asyncio", name = "gather")]
#[derive(Debug, PyPayload)]
pub struct PyGather {
    /// The awaitables, until the first step.
    aws: RefCell<Option<Vec<PyObjectRef>>>,
    /// Put exceptions in the result list instead of raising the first one.
    return_exceptions: bool,
    /// Set by the first step.
    state: RefCell<Option<Rc<GatherState>>>,
    /// CPython's `cancel()` was called: the gather ends with CancelledError even where
    /// `return_exceptions` would list its children's.
    cancel_requested: Cell<bool>,
}

impl PyGather {
    pub fn new(aws: Vec<PyObjectRef>, return_exceptions: bool, vm: &VirtualMachine) -> PyResult<PyRef<Self>> {
        Ok(PyGather { aws: RefCell::new(Some(aws)), return_exceptions, state: RefCell::new(None), cancel_requested: Cell::new(false) }
            .into_ref(&vm.ctx))
    }

    /// The first step: promotes the awaitables to tasks and listens for their ends.
    fn start(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let Some(aws) = self.aws.borrow_mut().take() else {
            return Err(vm.new_runtime_error("gather awaited twice"));
        };
        let children = aws.into_iter().map(|aw| promote_to_task(aw, vm)).collect::<PyResult<Vec<_>>>()?;
        let n = children.len() as isize;
        let state = Rc::new(GatherState {
            children: RefCell::new(Vec::with_capacity(children.len())),
            remaining: Cell::new(0),
            error: RefCell::new(None),
            return_exceptions: self.return_exceptions,
            waiting: Cell::new(false),
            task: RefCell::new(None),
        });
        *self.state.borrow_mut() = Some(state.clone());
        for (index, child) in children.into_iter().enumerate() {
            let key = if child.is_done() {
                if child.exception().is_some() && !self.return_exceptions {
                    state.remaining.set(-n);
                }
                None
            } else if child.has_waiters() {
                state.children.borrow_mut().push((child, None));
                return Err(vm.new_runtime_error("can't gather"));
            } else {
                state.remaining.set(state.remaining.get() + 1);
                Some(child.add_waiter(Waiter::Gather(state.clone(), index)))
            };
            state.children.borrow_mut().push((child, key));
        }
        if state.remaining.get() <= 0 {
            return state.finish(false, vm);
        }
        let cur = current_task(vm)?;
        *state.task.borrow_mut() = Some(cur.clone());
        state.waiting.set(true);
        cur.set_wait(Wait::Gather(state));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyGather {
    /// CPython's `gather(...).cancel(msg=None)`: cancels the gathered work, so that awaiting the
    /// gather raises CancelledError once the children have ended, as CPython's does. Awaited
    /// already, it cancels the children still running; not awaited yet, it makes tasks of its
    /// awaitables (CPython's gather made them when it was called) and cancels them. False when
    /// the gather has finished.
    #[pymethod]
    fn cancel(zelf: &Py<Self>, msg: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<bool> {
        let msg = msg.into_option().filter(|m| !vm.is_none(m));
        let state = zelf.state.borrow().clone();
        let children: Vec<PyRef<PyTask>> = match state {
            Some(state) if state.waiting.get() => state.pending_children(),
            Some(_) => return Ok(false),
            None => {
                let aws = zelf.aws.borrow_mut().take();
                let Some(aws) = aws else { return Ok(false) };
                let tasks = aws.into_iter().map(|aw| promote_to_task(aw, vm)).collect::<PyResult<Vec<_>>>()?;
                *zelf.aws.borrow_mut() = Some(tasks.iter().map(|t| t.clone().into()).collect());
                tasks
            }
        };
        zelf.cancel_requested.set(true);
        for child in &children {
            PyTask::cancel_with(child, msg.clone(), vm)?;
        }
        Ok(true)
    }

    /// Raises `exc` into the gather: a CancelledError cancels the children still running.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let exc = super::fastpath::thrown(typ, val, tb, vm);
        let state = zelf.state.borrow().clone();
        let Some(state) = state else { return Err(exc) };
        if !super::core::is_cancelled(&exc, vm) {
            return Err(exc);
        }
        *state.error.borrow_mut() = Some(exc.clone());
        match state.finish(true, vm) {
            Err(e) => Err(e),
            Ok(_) => Err(exc),
        }
    }
}

impl SelfIter for PyGather {}

impl IterNext for PyGather {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        let state = zelf.state.borrow().clone();
        let outcome = match state {
            None => zelf.start(vm),
            Some(state) => state.finish(false, vm),
        };
        match outcome {
            Ok(PyIterReturn::StopIteration(_)) if zelf.cancel_requested.get() => Err(super::new_cancelled_error(vm)),
            outcome => outcome,
        }
    }
}
