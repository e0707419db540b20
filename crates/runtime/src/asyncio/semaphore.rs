//! CPython's `Semaphore` and `BoundedSemaphore` (`asyncio.locks`), which MicroPython's asyncio
//! lacks, with CPython 3.11's behaviour and messages.
//!
//! Fairness is CPython 3.11's: a task that finds waiters queued waits behind them even when
//! units are free; `release()` hands a unit to the oldest waiter at once (it is taken off the
//! count then, and the waiter is made ready); a waiter that was handed a unit and is cancelled
//! before it runs gives the unit back, which goes to the next waiter. Until a woken waiter runs,
//! it still counts as waiting, so `locked()` stays True and newcomers queue.
//!
//! The record of a parked task is a [`Wait::Site`] while it queues and a [`Wait::SiteGranted`]
//! once it holds a unit, so cancelling it goes through the scheduler's one rule
//! ([`super::core::Scheduler::detach`]) like every other wait.

use std::cell::{Cell, OnceCell, RefCell};

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

use super::core::{Scheduler, current_task, sched};
use super::task::{PyTask, Wait, WaitSite};

/// How a Semaphore's waiter leaves its queue when cancelled, and gives back the unit it was
/// handed when cancelled before it ran.
static SITE: WaitSite = WaitSite { what: "Semaphore.acquire", remove: site_remove, give_back: site_give_back };

/// [`WaitSite::remove`] for a Semaphore.
fn site_remove(obj: &PyObject, key: WaitKey) {
    if let Some(sem) = obj.downcast_ref::<PySemaphore>() {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = sem.waiters.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::give_back`] for a Semaphore: the woken waiter will not take its unit (CPython's
/// `acquire()` adds it back and wakes the next waiter when its task is cancelled).
fn site_give_back(obj: &PyObject, sched: &Scheduler) {
    if let Some(sem) = obj.downcast_ref::<PySemaphore>() {
        sem.granted.set(sem.granted.get().saturating_sub(1));
        sem.value.set(sem.value.get().saturating_add(1));
        PySemaphore::wake_up_next(sem, sched);
    }
}

/// A counter of units tasks take with `acquire()` and give back with `release()`; `acquire()`
/// waits while none is free. `BoundedSemaphore` is this class too (a subclass made at start-up,
/// [`bounded_semaphore_type`]), with a bound that `release()` may not pass.
///
/// Subclassable, with an instance dict made on the first attribute set. `async with` calls a
/// subclass's own `acquire()` and `release()`, as CPython's does.
#[pyclass(module = "asyncio.locks", name = "Semaphore")]
#[derive(Debug, PyPayload)]
pub struct PySemaphore {
    /// Units free now (CPython's `_value`): a unit handed to a woken waiter is no longer here.
    value: Cell<usize>,
    /// BoundedSemaphore's initial value, which `release()` may not go beyond.
    bound: Cell<Option<usize>>,
    /// Tasks parked in `acquire()`, oldest first.
    waiters: RefCell<WaitQueue<PyRef<PyTask>>>,
    /// Waiters handed a unit that have not run yet: they still count as waiting.
    granted: Cell<usize>,
}

impl PySemaphore {
    /// CPython's `locked()`: no unit is free, or tasks wait (newcomers queue behind them).
    fn is_locked(&self) -> bool {
        self.value.get() == 0 || !self.waiters.borrow().is_empty() || self.granted.get() > 0
    }

    /// Hands a unit to the oldest parked waiter, if any: it is made ready and owns the unit.
    fn wake_up_next(zelf: &Py<Self>, sched: &Scheduler) {
        let next = zelf.waiters.borrow_mut().pop_front();
        if let Some(task) = next {
            zelf.value.set(zelf.value.get().saturating_sub(1));
            zelf.granted.set(zelf.granted.get() + 1);
            sched.push_ready(task.clone());
            task.set_wait(Wait::SiteGranted(zelf.to_owned().into(), &SITE));
        }
    }

    /// `release()` of a plain Semaphore or BoundedSemaphore.
    fn release_unit(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.bound.get().is_some_and(|bound| zelf.value.get() >= bound) {
            return Err(vm.new_value_error("BoundedSemaphore released too many times"));
        }
        let value = zelf.value.get().checked_add(1).ok_or_else(|| vm.new_overflow_error("Semaphore value too large"))?;
        zelf.value.set(value);
        PySemaphore::wake_up_next(zelf, &sched());
        Ok(())
    }

    /// Whether the class of `zelf` leaves `name` as Semaphore defines it (so `async with` may
    /// take the native path instead of calling the method).
    fn inherits(zelf: &Py<Self>, name: &str, vm: &VirtualMachine) -> bool {
        let cls = zelf.class();
        if cls.is(PySemaphore::class(&vm.ctx)) {
            return true;
        }
        let name = vm.ctx.intern_str(name);
        match (cls.get_attr(name), PySemaphore::class(&vm.ctx).get_attr(name)) {
            (Some(own), Some(base)) => own.is(&base),
            _ => false,
        }
    }

    /// `zelf`'s `acquire()` awaitable; `enter`: for `async with`, which gives None.
    fn acquirer(zelf: PyRef<Self>, enter: bool, vm: &VirtualMachine) -> PyRef<PySemaphoreAcquire> {
        PySemaphoreAcquire { sem: zelf, phase: Cell::new(Phase::Start), enter }.into_ref(&vm.ctx)
    }
}

/// The arguments of `Semaphore(value=1)` and `BoundedSemaphore(value=1)`.
#[derive(rustpython_vm::FromArgs)]
pub struct SemaphoreArgs {
    /// The number of units, 1 if not given.
    #[pyarg(any, optional)]
    value: OptionalArg<PyObjectRef>,
}

/// `Semaphore(...)` makes the object with one unit and leaves the arguments to `__init__` (a
/// subclass's own takes what it likes and calls `super().__init__(value)`).
impl Constructor for PySemaphore {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        PySemaphore::fresh().into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PySemaphore::fresh())
    }
}

impl PySemaphore {
    fn fresh() -> Self {
        PySemaphore {
            value: Cell::new(1),
            bound: Cell::new(None),
            waiters: RefCell::new(WaitQueue::new()),
            granted: Cell::new(0),
        }
    }
}

/// `__init__(value=1)`: sets the count (CPython's ValueError for a negative one); on a
/// BoundedSemaphore, the bound too. Tasks already waiting keep their places.
impl Initializer for PySemaphore {
    type Args = SemaphoreArgs;
    fn init(zelf: &Py<Self>, args: SemaphoreArgs, vm: &VirtualMachine) -> PyResult<()> {
        let value = match args.value.into_option() {
            None => 1,
            Some(value) => {
                let value = value.try_index(vm)?;
                if value.as_bigint() < &0.into() {
                    return Err(vm.new_value_error("Semaphore initial value must be >= 0"));
                }
                value.try_to_primitive::<usize>(vm)?
            }
        };
        let bounded = zelf.class().fast_issubclass(&bounded_semaphore_type(vm));
        zelf.value.set(value);
        zelf.bound.set(bounded.then_some(value));
        Ok(())
    }
}

#[pyclass(with(Constructor, Initializer, Representable), flags(BASETYPE, HAS_DICT))]
impl PySemaphore {
    /// True if `acquire()` would wait: no unit is free, or tasks are waiting already.
    #[pymethod]
    fn locked(zelf: &Py<Self>) -> bool {
        zelf.is_locked()
    }

    /// Takes a unit, waiting behind the tasks already waiting; returns True.
    #[pymethod]
    fn acquire(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyRef<PySemaphoreAcquire> {
        PySemaphore::acquirer(zelf, false, vm)
    }

    /// Gives a unit back; the oldest waiting task gets it. ValueError on a BoundedSemaphore
    /// released more often than acquired.
    #[pymethod]
    fn release(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        PySemaphore::release_unit(zelf, vm)
    }

    /// `async with sem`: awaits `acquire()` (a subclass's own, if it has one) and gives None.
    #[pymethod]
    fn __aenter__(zelf: PyRef<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if PySemaphore::inherits(&zelf, "acquire", vm) {
            return Ok(PySemaphore::acquirer(zelf, true, vm).into());
        }
        vm.call_method(zelf.as_object(), "acquire", ())
    }

    /// The end of `async with sem`: calls `release()` (a subclass's own, if it has one).
    #[pymethod]
    fn __aexit__(zelf: PyRef<Self>, _args: PosArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if PySemaphore::inherits(&zelf, "release", vm) {
            PySemaphore::release_unit(&zelf, vm)?;
        } else {
            vm.call_method(zelf.as_object(), "release", ())?;
        }
        Ok(super::done_awaitable(vm))
    }
}

/// `<asyncio.locks.Semaphore object at 0x... [unlocked, value:1]>`, as CPython shows it.
impl Representable for PySemaphore {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let mut extra =
            if zelf.is_locked() { "locked".to_owned() } else { format!("unlocked, value:{}", zelf.value.get()) };
        let waiting = zelf.waiters.borrow().len() + zelf.granted.get();
        if waiting > 0 {
            extra.push_str(&format!(", waiters:{waiting}"));
        }
        locks_repr(zelf.as_object(), &extra, vm)
    }
}

/// CPython's repr of its `asyncio.locks` objects: `object.__repr__` with `[extra]` before the
/// closing bracket (`<asyncio.locks.Condition object at 0x7f... [unlocked]>`).
pub(crate) fn locks_repr(obj: &PyObject, extra: &str, vm: &VirtualMachine) -> PyResult<String> {
    let object_repr = vm.ctx.types.object_type.get_attr(rustpython_vm::identifier!(vm, __repr__));
    let base = match object_repr {
        Some(repr) => repr.call((obj.to_owned(),), vm)?.str(vm)?.to_string(),
        None => format!("<{} object>", obj.class().name()),
    };
    let base = base.strip_suffix('>').unwrap_or(&base);
    Ok(format!("{base} [{extra}]>"))
}

thread_local! {
    static BOUNDED: OnceCell<PyTypeRef> = const { OnceCell::new() };
}

/// `BoundedSemaphore`: a subclass of Semaphore made once per thread, whose instances are
/// Semaphores with a bound (set by `__init__`, which sees the class).
pub(crate) fn bounded_semaphore_type(vm: &VirtualMachine) -> PyTypeRef {
    BOUNDED.with(|cell| {
        cell.get_or_init(|| {
            let slots = rustpython_vm::types::PyTypeSlots::new(
                "BoundedSemaphore",
                rustpython_vm::types::PyTypeFlags::HEAP_TYPE_WITH_DICT,
            );
            vm.ctx.new_class(Some("asyncio.locks"), "BoundedSemaphore", PySemaphore::make_static_type(), slots)
        })
        .clone()
    })
}

/// Where an `acquire()` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not awaited yet.
    Start,
    /// Parked in the queue under this key; resumed normally, it was handed a unit.
    Parked(WaitKey),
    /// Returned or raised.
    Done,
}

/// The awaitable `Semaphore.acquire()` returns (CPython's coroutine).
#[pyclass(module = "asyncio", name = "SemaphoreAcquire")]
#[derive(Debug, PyPayload)]
pub struct PySemaphoreAcquire {
    /// The semaphore.
    sem: PyRef<PySemaphore>,
    /// Where it stands.
    phase: Cell<Phase>,
    /// Made by `async with`, whose `__aenter__` gives None, where `acquire()` gives True.
    enter: bool,
}

impl PySemaphoreAcquire {
    /// What the await gives once the unit is taken.
    fn taken(&self, vm: &VirtualMachine) -> PyIterReturn {
        self.phase.set(Phase::Done);
        PyIterReturn::StopIteration(Some(if self.enter { vm.ctx.none() } else { vm.ctx.new_bool(true).into() }))
    }
}

#[pyclass(with(IterNext, Iterable))]
impl PySemaphoreAcquire {
    /// A task parked here was cancelled (or had an exception thrown in): the scheduler has
    /// taken it out of the queue, or given back the unit it was handed; the exception goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        if let Phase::Parked(key) = zelf.phase.replace(Phase::Done) {
            // Cancelling took the task out of the queue; an exception thrown in otherwise did not.
            site_remove(zelf.sem.as_object(), key);
        }
        Err(super::fastpath::thrown(typ, val, tb, vm))
    }
}

impl SelfIter for PySemaphoreAcquire {}

impl IterNext for PySemaphoreAcquire {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        let sem = &zelf.sem;
        match zelf.phase.get() {
            Phase::Start => {
                if !sem.is_locked() {
                    sem.value.set(sem.value.get().saturating_sub(1));
                    return Ok(zelf.taken(vm));
                }
                let cur = current_task(vm)?;
                let key = sem.waiters.borrow_mut().push_back(cur.clone());
                cur.set_wait(Wait::Site(sem.clone().into(), key, &SITE));
                zelf.phase.set(Phase::Parked(key));
                Ok(PyIterReturn::Return(vm.ctx.none()))
            }
            Phase::Parked(_) => {
                // Handed a unit by release(): it is ours. Units freed meanwhile go on to the
                // next waiter, as CPython's acquire() does on its way out.
                sem.granted.set(sem.granted.get().saturating_sub(1));
                if sem.value.get() > 0 {
                    PySemaphore::wake_up_next(sem, &sched());
                }
                Ok(zelf.taken(vm))
            }
            Phase::Done => Err(reused(vm)),
        }
    }
}

/// CPython's error for awaiting a coroutine a second time.
pub(crate) fn reused(vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_runtime_error("cannot reuse already awaited coroutine")
}
