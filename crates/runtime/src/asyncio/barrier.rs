//! CPython's `Barrier` and `BrokenBarrierError` (`asyncio.locks`, `asyncio.exceptions`), which
//! MicroPython's asyncio lacks, with CPython 3.11's behaviour and messages.
//!
//! CPython builds its Barrier on a Condition whose lock is never held across an await (every
//! step between two waits runs to its end), so taking that lock never waits, and what a
//! program can observe is the Condition's queue: a task parks in it while the barrier fills
//! (or, arriving while it drains or resets, until that ends), every state change wakes all
//! parked tasks in the order they parked, and each, when it runs, checks the state again and
//! parks again at the back if it must still wait. This module keeps that queue and those
//! checks without the lock, so tasks resume in CPython's order.

use std::cell::{Cell, OnceCell, RefCell};

use microloop_core::{WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyTypeRef},
    function::{FuncArgs, OptionalArg, PosArgs},
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, Representable, SelfIter},
};

use super::core::{Scheduler, current_task, sched};
use super::semaphore::{locks_repr, reused};
use super::task::{PyTask, Wait, WaitSite};

thread_local! {
    static BROKEN_BARRIER_ERROR: OnceCell<PyTypeRef> = const { OnceCell::new() };
}

/// `asyncio.BrokenBarrierError`, a RuntimeError, made once per thread.
pub(crate) fn broken_barrier_error(vm: &VirtualMachine) -> PyTypeRef {
    BROKEN_BARRIER_ERROR.with(|cell| {
        cell.get_or_init(|| {
            vm.ctx.new_exception_type(
                "asyncio.exceptions",
                "BrokenBarrierError",
                Some(vec![vm.ctx.exceptions.runtime_error.to_owned()]),
            )
        })
        .clone()
    })
}

fn new_broken(message: &str, vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_exception_msg(broken_barrier_error(vm), message.into())
}

/// How a task parked in a Barrier leaves the queue when cancelled. Waking hands nothing over,
/// so there is nothing to give back.
static SITE: WaitSite = WaitSite { what: "Barrier.wait", remove: site_remove, give_back: site_give_back };

/// [`WaitSite::remove`] for a Barrier.
fn site_remove(obj: &PyObject, key: WaitKey) {
    if let Some(barrier) = obj.downcast_ref::<PyBarrier>() {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = barrier.waiters.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::give_back`] for a Barrier: never recorded (a woken task is plainly ready).
fn site_give_back(_obj: &PyObject, _sched: &Scheduler) {}

/// CPython's barrier states, shown by `repr()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Tasks arrive and wait for the last one.
    Filling,
    /// The last one arrived: the waiting tasks leave; newcomers wait until all have left.
    Draining,
    /// `reset()` while tasks waited: they leave with BrokenBarrierError; newcomers wait.
    Resetting,
    /// `abort()`: every waiting and arriving task gets BrokenBarrierError until `reset()`.
    Broken,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Filling => "filling",
            State::Draining => "draining",
            State::Resetting => "resetting",
            State::Broken => "broken",
        }
    }
}

/// Lets `parties` tasks wait for each other: `wait()` returns, in every one of them, once the
/// last has arrived, with its arrival index.
///
/// Subclassable, with an instance dict made on the first attribute set.
#[pyclass(module = "asyncio.locks", name = "Barrier")]
#[derive(Debug, PyPayload)]
pub struct PyBarrier {
    /// How many tasks the barrier waits for.
    parties: Cell<usize>,
    /// Where the barrier stands.
    state: Cell<State>,
    /// Tasks inside `wait()` past the entrance: arrived and not yet left.
    count: Cell<usize>,
    /// Tasks parked, oldest first (CPython's Condition queue).
    waiters: RefCell<WaitQueue<PyRef<PyTask>>>,
}

impl PyBarrier {
    /// Wakes every parked task, oldest first (the Condition's `notify_all()`).
    fn notify_all(&self) {
        let waiters = self.waiters.borrow_mut().take_all();
        let s = sched();
        for task in waiters {
            s.push_ready(task);
        }
    }

    /// A task leaves `wait()`: the last one out ends a drain or reset and wakes the tasks
    /// waiting for that.
    fn exit(&self) {
        self.count.set(self.count.get().saturating_sub(1));
        if self.count.get() == 0 {
            if matches!(self.state.get(), State::Draining | State::Resetting) {
                self.state.set(State::Filling);
            }
            self.notify_all();
        }
    }

    /// Whether the class of `zelf` leaves `wait` as Barrier defines it.
    fn inherits_wait(zelf: &Py<Self>, vm: &VirtualMachine) -> bool {
        let cls = zelf.class();
        if cls.is(PyBarrier::class(&vm.ctx)) {
            return true;
        }
        let name = vm.ctx.intern_str("wait");
        match (cls.get_attr(name), PyBarrier::class(&vm.ctx).get_attr(name)) {
            (Some(own), Some(base)) => own.is(&base),
            _ => false,
        }
    }

    fn fresh() -> Self {
        PyBarrier {
            parties: Cell::new(1),
            state: Cell::new(State::Filling),
            count: Cell::new(0),
            waiters: RefCell::new(WaitQueue::new()),
        }
    }
}

/// The arguments of `Barrier(parties)`.
#[derive(rustpython_vm::FromArgs)]
pub struct BarrierArgs {
    /// How many tasks to wait for.
    #[pyarg(any)]
    parties: PyObjectRef,
}

/// `Barrier(...)` makes the object and leaves the arguments to `__init__` (a subclass's own
/// takes what it likes and calls `super().__init__(parties)`).
impl Constructor for PyBarrier {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        PyBarrier::fresh().into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PyBarrier::fresh())
    }
}

/// `__init__(parties)`: CPython's ValueError below 1.
impl Initializer for PyBarrier {
    type Args = BarrierArgs;
    fn init(zelf: &Py<Self>, args: BarrierArgs, vm: &VirtualMachine) -> PyResult<()> {
        let parties = args.parties.try_index(vm)?;
        if parties.as_bigint() < &1.into() {
            return Err(vm.new_value_error("parties must be > 0"));
        }
        zelf.parties.set(parties.try_to_primitive::<usize>(vm)?);
        Ok(())
    }
}

#[pyclass(with(Constructor, Initializer, Representable), flags(BASETYPE, HAS_DICT))]
impl PyBarrier {
    /// Waits until `parties` tasks wait, and returns this task's arrival index (0 for the
    /// first). BrokenBarrierError if the barrier is aborted or reset meanwhile, or was broken.
    #[pymethod]
    fn wait(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyBarrierWait> {
        PyBarrierWait { barrier: zelf, phase: Cell::new(Phase::Start), index: Cell::new(0) }.into_ref(&vm.ctx)
    }

    /// Returns the barrier to its empty state; tasks waiting get BrokenBarrierError.
    #[pymethod]
    fn reset(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyBarrierChange> {
        PyBarrierChange { barrier: zelf, abort: false, done: Cell::new(false) }.into_ref(&vm.ctx)
    }

    /// Breaks the barrier: tasks waiting and arriving get BrokenBarrierError until `reset()`.
    #[pymethod]
    fn abort(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PyBarrierChange> {
        PyBarrierChange { barrier: zelf, abort: true, done: Cell::new(false) }.into_ref(&vm.ctx)
    }

    /// How many tasks the barrier waits for.
    #[pygetset]
    fn parties(zelf: &Py<Self>) -> usize {
        zelf.parties.get()
    }

    /// How many tasks wait while the barrier fills (0 while it drains, resets or is broken).
    #[pygetset]
    fn n_waiting(zelf: &Py<Self>) -> usize {
        if zelf.state.get() == State::Filling { zelf.count.get() } else { 0 }
    }

    /// Whether the barrier is broken (`abort()`).
    #[pygetset]
    fn broken(zelf: &Py<Self>) -> bool {
        zelf.state.get() == State::Broken
    }

    /// `async with barrier as index`: awaits `wait()` (a subclass's own, if it has one).
    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult {
        if PyBarrier::inherits_wait(&zelf, vm) {
            return Ok(PyBarrier::wait(zelf, vm).into());
        }
        vm.call_method(zelf.as_object(), "wait", ())
    }

    /// The end of `async with barrier`: nothing to do.
    #[pymethod]
    fn __aexit__(_zelf: PyRef<Self>, _args: PosArgs, vm: &VirtualMachine) -> PyObjectRef {
        super::done_awaitable(vm)
    }
}

/// `<asyncio.locks.Barrier object at 0x... [filling, waiters:0/3]>`, as CPython shows it.
impl Representable for PyBarrier {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let state = zelf.state.get();
        let mut extra = state.name().to_owned();
        if state != State::Broken {
            extra.push_str(&format!(", waiters:{}/{}", PyBarrier::n_waiting(zelf), zelf.parties.get()));
        }
        locks_repr(zelf.as_object(), &extra, vm)
    }
}

/// Where a `wait()` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not awaited yet.
    Start,
    /// Arrived while the barrier drains or resets: parked until that ends, not counted yet.
    Blocked(WaitKey),
    /// Counted, parked until the barrier is released, reset or aborted. Woken, it checks the
    /// state again when it runs, as from `Blocked`.
    Waiting(WaitKey),
    /// Returned or raised.
    Done,
}

/// The awaitable `Barrier.wait()` returns (CPython's coroutine).
#[pyclass(module = "asyncio", name = "BarrierWait")]
#[derive(Debug, PyPayload)]
pub struct PyBarrierWait {
    /// The barrier.
    barrier: PyRef<PyBarrier>,
    /// Where it stands.
    phase: Cell<Phase>,
    /// This task's arrival index, once counted.
    index: Cell<usize>,
}

impl PyBarrierWait {
    /// Parks the running task in the barrier's queue.
    fn park(&self, waiting: bool, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let cur = current_task(vm)?;
        let barrier = &self.barrier;
        let key = barrier.waiters.borrow_mut().push_back(cur.clone());
        cur.set_wait(Wait::Site(barrier.clone().into(), key, &SITE));
        self.phase.set(if waiting { Phase::Waiting(key) } else { Phase::Blocked(key) });
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }

    /// At the entrance: waits while the barrier drains or resets, raises if it is broken,
    /// else counts this task in (the last one releases the others).
    fn enter(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        // Outside a task nothing may be counted in: it could never be counted out.
        current_task(vm)?;
        let barrier = &self.barrier;
        match barrier.state.get() {
            State::Draining | State::Resetting => return self.park(false, vm),
            State::Broken => {
                self.phase.set(Phase::Done);
                return Err(new_broken("Barrier aborted", vm));
            }
            State::Filling => {}
        }
        let index = barrier.count.get();
        self.index.set(index);
        barrier.count.set(index + 1);
        if index + 1 == barrier.parties.get() {
            barrier.state.set(State::Draining);
            barrier.notify_all();
            return self.leave(Ok(()), vm);
        }
        self.check(vm)
    }

    /// Counted in: waits while the barrier fills, then leaves with the index, or with
    /// BrokenBarrierError if it was reset or aborted.
    fn check(&self, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        match self.barrier.state.get() {
            State::Filling => self.park(true, vm),
            State::Broken | State::Resetting => self.leave(Err(new_broken("Abort or reset of barrier", vm)), vm),
            State::Draining => self.leave(Ok(()), vm),
        }
    }

    /// Leaves the barrier (the last one out ends a drain or reset) with the index or `error`.
    fn leave(&self, outcome: Result<(), PyBaseExceptionRef>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        self.phase.set(Phase::Done);
        self.barrier.exit();
        outcome?;
        Ok(PyIterReturn::StopIteration(Some(vm.ctx.new_int(self.index.get()).into())))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PyBarrierWait {
    /// An exception thrown in at the await (a cancellation, mostly): a counted task leaves
    /// the barrier, which stays as it was (CPython 3.11 does not break it); the exception
    /// goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        let exc = super::fastpath::thrown(typ, val, tb, vm);
        let phase = zelf.phase.replace(Phase::Done);
        let key = match phase {
            Phase::Blocked(key) | Phase::Waiting(key) => Some(key),
            _ => None,
        };
        if let Some(key) = key {
            // Cancelling took the task out of the queue; anything else thrown in did not.
            site_remove(zelf.barrier.as_object(), key);
        }
        if matches!(phase, Phase::Waiting(_)) {
            zelf.barrier.exit();
        }
        Err(exc)
    }
}

impl SelfIter for PyBarrierWait {}

impl IterNext for PyBarrierWait {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        // Woken by a state change, which took the task out of the queue (anything else that
        // woke it did not).
        match zelf.phase.get() {
            Phase::Start => zelf.enter(vm),
            Phase::Blocked(key) => {
                site_remove(zelf.barrier.as_object(), key);
                zelf.enter(vm)
            }
            Phase::Waiting(key) => {
                site_remove(zelf.barrier.as_object(), key);
                zelf.check(vm)
            }
            Phase::Done => Err(reused(vm)),
        }
    }
}

/// The awaitable `Barrier.reset()` and `Barrier.abort()` return (CPython's coroutines, which
/// finish without waiting): the change is made when it is awaited.
#[pyclass(module = "asyncio", name = "BarrierChange")]
#[derive(Debug, PyPayload)]
pub struct PyBarrierChange {
    /// The barrier.
    barrier: PyRef<PyBarrier>,
    /// `abort()`, else `reset()`.
    abort: bool,
    /// Already awaited.
    done: Cell<bool>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyBarrierChange {}

impl SelfIter for PyBarrierChange {}

impl IterNext for PyBarrierChange {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if zelf.done.replace(true) {
            return Err(reused(vm));
        }
        let barrier = &zelf.barrier;
        if zelf.abort {
            barrier.state.set(State::Broken);
        } else if barrier.count.get() > 0 {
            barrier.state.set(State::Resetting);
        } else {
            barrier.state.set(State::Filling);
        }
        barrier.notify_all();
        Ok(PyIterReturn::StopIteration(None))
    }
}
