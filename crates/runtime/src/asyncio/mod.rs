//! The native `asyncio` module (also importable as `uasyncio`), MicroPython's API in Rust.
//!
//! One file per job, as in MicroPython's `extmod/asyncio/`: `core.rs` (run loop, sleep, the
//! exception handler), `task.rs`, `event.rs` (Event, ThreadSafeFlag), `lock.rs`, `funcs.rs`
//! (wait_for, gather), `stream.rs` (TCP/TLS streams and servers); and `sources.rs`, the
//! interface of everything that wakes the loop (I/O readiness, scheduled callbacks; the pins
//! and the host plug in from outside this module).

pub(crate) mod barrier;
pub(crate) mod condition;
pub(crate) mod core;
pub(crate) mod event;
pub(crate) mod fastpath;
pub(crate) mod funcs;
pub(crate) mod future;
pub(crate) mod lock;
pub mod monitor;
pub(crate) mod mpstreams;
pub(crate) mod objstream;
pub(crate) mod queue;
pub(crate) mod semaphore;
pub(crate) mod sources;
pub(crate) mod stream;
pub(crate) mod task;

pub(crate) use self::core::Scheduler;
pub use event::FlagShared;

/// The `Send` handle of a Python `ThreadSafeFlag`: other threads call `set()` on it to wake the
/// task waiting on the flag, even while the loop is blocked in the poller.
pub fn flag_handle(obj: &rustpython_vm::PyObject) -> Option<std::sync::Arc<FlagShared>> {
    obj.downcast_ref::<event::PyThreadSafeFlag>().map(|f| f.shared())
}

use rustpython_vm::{
    PyObjectRef, PyPayload, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyTypeRef},
    protocol::PyIterReturn,
    pyclass,
    types::{IterNext, Iterable, SelfIter},
};

pub(crate) use _asyncio_native::module_def;
pub(crate) use funcs::PySleep;

/// Drops this thread's shared sleep object and spare `__await__` wrapper (they belong to the
/// interpreter being dropped), and forgets that its loop was closed.
pub(crate) fn forget_shared_objects() {
    PySleep::forget_shared();
    fastpath::AwaitWrapper::forget_spare();
    fastpath::forget_lazy_names();
    future::set_loop_closed(false);
}

/// The CancelledError class of this thread's asyncio module.
pub(crate) fn cancelled_error_type(vm: &VirtualMachine) -> PyTypeRef {
    _asyncio_native::cancelled_error(vm)
}

pub(crate) fn new_cancelled_error(vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_exception_empty(cancelled_error_type(vm))
}

/// The object `get_event_loop()` returns, passed to exception handlers.
pub(crate) fn loop_object(vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    Ok(_asyncio_native::event_loop(vm).into())
}

/// An awaitable that finishes at once with None (what `__aexit__` returns).
pub(crate) fn done_awaitable(vm: &VirtualMachine) -> PyObjectRef {
    PyDone { value: None }.into_ref(&vm.ctx).into()
}

/// An awaitable that finishes at once with `value` (a subclass's `__aexit__`: what its
/// `release()` returned, which suppresses the exception when true, as in MicroPython).
pub(crate) fn done_awaitable_with(value: PyObjectRef, vm: &VirtualMachine) -> PyObjectRef {
    PyDone { value: Some(value) }.into_ref(&vm.ctx).into()
}

/// `Constructor` and `Initializer` for a native class that programs subclass and that takes
/// no arguments (Event, ThreadSafeFlag, Lock): `new` makes `$ty::fresh()` (with an instance
/// dict made on the first attribute set) and leaves the arguments to `__init__` (a subclass's
/// own takes what it likes); `__init__` refuses any, as MicroPython's does, and runs
/// `$ty::reinit`. The init slot is implemented itself, not through the default: construction
/// calls it every time, and the default's argument binding cost more than the rest.
macro_rules! no_argument_class {
    ($ty:ty) => {
        impl rustpython_vm::types::Constructor for $ty {
            type Args = rustpython_vm::function::FuncArgs;
            fn slot_new(
                cls: rustpython_vm::builtins::PyTypeRef,
                _args: rustpython_vm::function::FuncArgs,
                vm: &rustpython_vm::VirtualMachine,
            ) -> rustpython_vm::PyResult {
                <$ty>::fresh().into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
            }
            fn py_new(
                _cls: &rustpython_vm::Py<rustpython_vm::builtins::PyType>,
                _args: rustpython_vm::function::FuncArgs,
                _vm: &rustpython_vm::VirtualMachine,
            ) -> rustpython_vm::PyResult<Self> {
                Ok(<$ty>::fresh())
            }
        }

        impl rustpython_vm::types::Initializer for $ty {
            type Args = rustpython_vm::function::FuncArgs;
            fn slot_init(
                zelf: &rustpython_vm::PyObject,
                args: rustpython_vm::function::FuncArgs,
                vm: &rustpython_vm::VirtualMachine,
            ) -> rustpython_vm::PyResult<()> {
                Self::init(zelf.try_to_ref::<Self>(vm)?, args, vm)
            }
            fn init(
                zelf: &rustpython_vm::Py<Self>,
                args: rustpython_vm::function::FuncArgs,
                vm: &rustpython_vm::VirtualMachine,
            ) -> rustpython_vm::PyResult<()> {
                $crate::asyncio::check_no_init_args(&args, vm)?;
                zelf.reinit();
                Ok(())
            }
        }
    };
}
pub(crate) use no_argument_class;

/// The arguments of `Event()`, `Lock()`, `ThreadSafeFlag()` and their `__init__`, which take
/// none: MicroPython's TypeError for any.
pub(crate) fn check_no_init_args(args: &rustpython_vm::function::FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    if !args.args.is_empty() {
        return Err(vm.new_type_error(format!(
            "__init__() takes 1 positional arguments but {} were given",
            args.args.len() + 1
        )));
    }
    if let Some(name) = args.kwargs.keys().next() {
        return Err(vm.new_type_error(format!("unexpected keyword argument '{name}'")));
    }
    Ok(())
}

/// Awaitable finishing immediately with its value (None if it has none).
#[pyclass(module = "asyncio", name = "done")]
#[derive(Debug, PyPayload)]
struct PyDone {
    value: Option<PyObjectRef>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyDone {}

impl SelfIter for PyDone {}

impl IterNext for PyDone {
    fn next(zelf: &rustpython_vm::Py<Self>, _vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        Ok(PyIterReturn::StopIteration(zelf.value.clone()))
    }
}

#[rustpython_vm::pymodule(name = "asyncio")]
mod _asyncio_native {
    use super::core::{Scheduler, current_task as running_task, sched, sleep_arg, sleep_ms_arg};
    use super::event::{PyEvent, PyThreadSafeFlag};
    use super::funcs::{PyGather, PySleep, PyWaitFor, promote_to_task};
    use super::lock::PyLock;
    use super::task::PyTask;
    use rustpython_vm::{
        Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
        builtins::{PyModule, PyTypeRef},
        class::PyClassImpl,
        function::{FuncArgs, PosArgs},
        pyclass,
    };

    thread_local! {
        static CANCELLED_ERROR: std::cell::OnceCell<PyTypeRef> = const { std::cell::OnceCell::new() };
        static EVENT_LOOP: std::cell::OnceCell<PyRef<PyLoop>> = const { std::cell::OnceCell::new() };
    }

    /// Raised in a task at its current await when it is cancelled. A BaseException, so
    /// `except Exception` does not swallow it.
    #[pyattr(name = "CancelledError")]
    pub(super) fn cancelled_error(vm: &VirtualMachine) -> PyTypeRef {
        CANCELLED_ERROR.with(|c| {
            c.get_or_init(|| {
                vm.ctx.new_exception_type(
                    "asyncio",
                    "CancelledError",
                    Some(vec![vm.ctx.exceptions.base_exception_type.to_owned()]),
                )
            })
            .clone()
        })
    }

    /// asyncio.TimeoutError is the builtin TimeoutError, so `except TimeoutError` catches it too.
    #[pyattr(name = "TimeoutError")]
    fn timeout_error(vm: &VirtualMachine) -> PyTypeRef {
        vm.ctx.exceptions.timeout_error.to_owned()
    }

    #[pyattr(name = "Task")]
    fn task_type(_vm: &VirtualMachine) -> PyTypeRef {
        PyTask::make_static_type()
    }

    #[pyattr(name = "Event")]
    fn event_type(_vm: &VirtualMachine) -> PyTypeRef {
        PyEvent::make_static_type()
    }

    #[pyattr(name = "ThreadSafeFlag")]
    fn flag_type(_vm: &VirtualMachine) -> PyTypeRef {
        PyThreadSafeFlag::make_static_type()
    }

    #[pyattr(name = "Lock")]
    fn lock_type(_vm: &VirtualMachine) -> PyTypeRef {
        PyLock::make_static_type()
    }

    #[pyattr(name = "Stream")]
    fn stream_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::stream::stream_type()
    }

    #[pyattr(name = "StreamReader")]
    fn stream_reader_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::stream::stream_type()
    }

    #[pyattr(name = "Server")]
    fn server_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::stream::server_type()
    }

    #[pyattr(name = "StreamWriter")]
    fn stream_writer_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::stream::stream_type()
    }

    /// CPython's: `readuntil` at the end of the stream (an EOFError with `partial`, `expected`).
    #[pyattr(name = "IncompleteReadError")]
    fn incomplete_read_error(vm: &VirtualMachine) -> PyTypeRef {
        super::stream::incomplete_read_error(vm)
    }

    /// CPython's; microloop's streams have no buffer limit, so nothing raises it.
    #[pyattr(name = "LimitOverrunError")]
    fn limit_overrun_error(vm: &VirtualMachine) -> PyTypeRef {
        super::stream::limit_overrun_error(vm)
    }

    // --- CPython's Future and Task API (future.rs) ---

    #[pyattr(name = "Future")]
    fn future_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::future::PyFuture::make_static_type()
    }

    #[pyattr(name = "Handle")]
    fn handle_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::future::PyHandle::make_static_type()
    }

    #[pyattr(name = "TimerHandle")]
    fn timer_handle_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::future::PyTimerHandle::make_static_type()
    }

    /// Raised for what a future's state does not allow (CPython's, an `Exception`).
    #[pyattr(name = "InvalidStateError")]
    fn invalid_state_error(vm: &VirtualMachine) -> PyTypeRef {
        super::future::invalid_state_error(vm)
    }

    /// True for a Future or Task, or an object CPython takes for a future.
    #[pyfunction]
    fn isfuture(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<bool> {
        super::future::isfuture(&obj, vm)
    }

    /// `ensure_future(obj, *, loop=None)`: a future as it is, a coroutine or awaitable as a task.
    #[pyfunction]
    fn ensure_future(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        super::future::ensure_future(args, vm)
    }

    // --- CPython's queues (queue.rs) ---

    #[pyattr(name = "Queue")]
    fn queue_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::queue::PyQueue::make_static_type()
    }

    #[pyattr(name = "LifoQueue")]
    fn lifo_queue_type(vm: &VirtualMachine) -> PyTypeRef {
        super::queue::lifo_queue_type(vm)
    }

    #[pyattr(name = "PriorityQueue")]
    fn priority_queue_type(vm: &VirtualMachine) -> PyTypeRef {
        super::queue::priority_queue_type(vm)
    }

    /// Raised by `get_nowait()` on an empty queue (an `Exception`).
    #[pyattr(name = "QueueEmpty")]
    fn queue_empty_type(vm: &VirtualMachine) -> PyTypeRef {
        super::queue::queue_empty_type(vm)
    }

    /// Raised by `put_nowait()` on a full queue (an `Exception`).
    #[pyattr(name = "QueueFull")]
    fn queue_full_type(vm: &VirtualMachine) -> PyTypeRef {
        super::queue::queue_full_type(vm)
    }

    /// Raised by puts and gets on a queue that was shut down (CPython 3.13; an `Exception`).
    #[pyattr(name = "QueueShutDown")]
    fn queue_shut_down_type(vm: &VirtualMachine) -> PyTypeRef {
        super::queue::queue_shut_down_type(vm)
    }

    // --- CPython's Semaphore, BoundedSemaphore, Condition, Barrier (semaphore.rs, condition.rs) ---

    #[pyattr(name = "Semaphore")]
    fn semaphore_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::semaphore::PySemaphore::make_static_type()
    }

    #[pyattr(name = "BoundedSemaphore")]
    fn bounded_semaphore_type(vm: &VirtualMachine) -> PyTypeRef {
        super::semaphore::bounded_semaphore_type(vm)
    }

    #[pyattr(name = "Condition")]
    fn condition_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::condition::PyCondition::make_static_type()
    }

    #[pyattr(name = "Barrier")]
    fn barrier_type(_vm: &VirtualMachine) -> PyTypeRef {
        super::barrier::PyBarrier::make_static_type()
    }

    #[pyattr(name = "BrokenBarrierError")]
    fn broken_barrier_error_type(vm: &VirtualMachine) -> PyTypeRef {
        super::barrier::broken_barrier_error(vm)
    }

    // --- the task monitor and all_tasks (monitor.rs) ---

    /// CPython's `all_tasks(loop=None)`: the set of the tasks not done. RuntimeError("no
    /// running event loop") when no loop runs and none is given.
    #[pyfunction]
    fn all_tasks(args: super::monitor::AllTasksArgs, vm: &VirtualMachine) -> PyResult<PyRef<rustpython_vm::builtins::PySet>> {
        super::monitor::all_tasks(args, vm)
    }

    /// The names of CPython's asyncio API written in Python (python-lib/asyncio/_cpython.py).
    const CPYTHON_NAMES: &[&str] = &[
        "ALL_COMPLETED",
        "FIRST_COMPLETED",
        "FIRST_EXCEPTION",
        "Runner",
        "TaskGroup",
        "Timeout",
        "as_completed",
        "iscoroutine",
        "iscoroutinefunction",
        "shield",
        "timeout",
        "timeout_at",
        "to_thread",
        "wait",
    ];

    /// Gives one of [`CPYTHON_NAMES`], missing from the module: the first use loads
    /// `asyncio._cpython` and keeps the name in the module, so MicroPython programs never load
    /// it. Called by the module type's getattro on a miss ([`super::fastpath::set_lazy_names`]),
    /// or as the module's `__getattr__` (PEP 562) where that getattro is not installed: a
    /// `__getattr__` in the module's dict stops the VM from specializing `asyncio.sleep` loads,
    /// which costs a task switch 150 instructions.
    fn load_lazy_name(name: &Py<rustpython_vm::builtins::PyStr>, vm: &VirtualMachine) -> PyResult {
        let wanted = name.to_str().unwrap_or_default();
        if !CPYTHON_NAMES.contains(&wanted) {
            return Err(vm.new_attribute_error(format!("module 'asyncio' has no attribute '{wanted}'")));
        }
        let value = cpython_api(vm)?.get_attr(name, vm)?;
        vm.import("asyncio", 0)?.set_attr(name, value.clone(), vm)?;
        Ok(value)
    }

    /// `asyncio._cpython`, imported on first use. (`import asyncio._cpython` gives back the
    /// package: the submodule is taken from sys.modules.)
    pub(super) fn cpython_api(vm: &VirtualMachine) -> PyResult {
        vm.import("asyncio._cpython", 0)?;
        vm.sys_module.get_attr("modules", vm)?.get_item("asyncio._cpython", vm)
    }

    /// The module's `__getattr__`, where the module type's getattro is the VM's own.
    fn module_getattr(name: rustpython_vm::builtins::PyStrRef, vm: &VirtualMachine) -> PyResult {
        load_lazy_name(&name, vm)
    }

    /// Connects to `host`:`port` (TLS with `ssl`) and returns `(reader, writer)`: one Stream
    /// twice, as in MicroPython.
    #[pyfunction]
    fn open_connection(args: super::stream::OpenConnectionArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::stream::PyOpenConnection>> {
        super::stream::open_connection(args, vm)
    }

    /// Listens on `host`:`port` and runs `callback(reader, writer)` as a task per connection.
    #[pyfunction]
    fn start_server(args: super::stream::StartServerArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::stream::PyStartServer>> {
        super::stream::start_server(args, vm)
    }

    /// CPython's `get_running_loop()`: the loop, from inside a task; RuntimeError outside.
    #[pyfunction]
    fn get_running_loop(vm: &VirtualMachine) -> PyResult<PyRef<PyLoop>> {
        running_task(vm)?;
        Ok(event_loop(vm))
    }

    /// The loop object, one per thread (MicroPython's `Loop`).
    pub(super) fn event_loop(vm: &VirtualMachine) -> PyRef<PyLoop> {
        EVENT_LOOP.with(|c| c.get_or_init(|| PyLoop {}.into_ref(&vm.ctx)).clone())
    }

    /// `create_task(coro, *, name=None, context=None)`: the name and context are CPython's.
    #[derive(rustpython_vm::FromArgs)]
    pub(super) struct CreateTaskArgs {
        #[pyarg(any)]
        coro: PyObjectRef,
        /// CPython's task name (`get_name()`); None keeps `Task-N`.
        #[pyarg(named, optional)]
        name: rustpython_vm::function::OptionalArg<PyObjectRef>,
        /// CPython's contextvars context: accepted, not used (tasks share the thread's context).
        #[pyarg(named, optional)]
        #[allow(dead_code)]
        context: rustpython_vm::function::OptionalArg<PyObjectRef>,
    }

    /// Schedules `coro` to run as a new task and returns the Task.
    #[pyfunction]
    fn create_task(args: CreateTaskArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
        if args.coro.downcast_ref::<PyTask>().is_some() {
            return Err(vm.new_type_error("coroutine expected"));
        }
        spawn_named(args, vm)
    }

    /// Makes the task of `create_task` and names it.
    pub(super) fn spawn_named(args: CreateTaskArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
        let task = PyTask::spawn(args.coro, vm)?;
        if let Some(name) = args.name.into_option().filter(|n| !vm.is_none(n)) {
            task.set_name_obj(Some(name.str(vm)?.into()));
            task.release_number();
        }
        Ok(task)
    }

    /// The Task running now. CPython's optional `loop` argument is accepted (there is one
    /// loop); outside a task this raises RuntimeError, as MicroPython's does, and in a
    /// `call_soon` callback (CPython's API) it is None, as in CPython.
    #[pyfunction]
    fn current_task(_loop: rustpython_vm::function::OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<PyRef<PyTask>>> {
        let task = running_task(vm)?;
        Ok(if task.is_helper() { None } else { Some(task) })
    }

    /// Runs `coro` as the main task until it finishes and returns its value.
    #[pyfunction]
    fn run(coro: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        // Before the task exists: a refused run must leave nothing queued.
        sched().check_owner(vm)?;
        let task = PyTask::spawn(coro, vm)?;
        let result = run_until(task, vm);
        // CPython's `run` closes the loop it made (a nested run leaves the outer one open).
        if sched().running.get() == 0 {
            super::future::set_loop_closed(true);
        }
        result
    }

    /// Runs the loop until `main_task` finishes and returns its value; without a task, until
    /// no task can run any more (MicroPython's module-level `run_until_complete`).
    #[pyfunction]
    fn run_until_complete(main_task: rustpython_vm::function::OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        match main_task.into_option().filter(|t| !vm.is_none(t)) {
            Some(task) => run_until(promote_to_task(task, vm)?, vm),
            None => Ok(sched().run(None, vm)?.unwrap_or_else(|| vm.ctx.none())),
        }
    }

    fn run_until(task: PyRef<PyTask>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        // A closed loop runs again, as MicroPython's does (CPython's would refuse).
        super::future::set_loop_closed(false);
        Ok(sched().run(Some(task), vm)?.unwrap_or_else(|| vm.ctx.none()))
    }

    /// `sleep(t)`: sleeps for `t` seconds (int or float). CPython's `sleep(delay, result)`
    /// gives `result` at the end.
    fn sleep(args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
        let delay_us = sleep_arg(&args[0], vm)?.saturating_mul(1000);
        match args.get(1).filter(|r| !vm.is_none(r)) {
            None => Ok(PySleep::make(delay_us, vm).into()),
            Some(result) => Ok(PySleep::with_result(delay_us, result.clone(), vm).into()),
        }
    }

    /// `sleep_ms(t)`: sleeps for `t` milliseconds.
    fn sleep_ms(args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
        Ok(PySleep::make(sleep_ms_arg(&args[0], vm)?.saturating_mul(1000), vm).into())
    }

    /// Waits for `aw` for at most `timeout` seconds; on timeout cancels it and raises
    /// TimeoutError. A timeout of None waits for ever. Nothing happens until it is awaited.
    #[pyfunction]
    fn wait_for(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyWaitFor>> {
        let (aw, timeout) = wait_for_args("wait_for", args, vm)?;
        PyWaitFor::new(aw, timeout, false, vm)
    }

    /// `wait_for` with the timeout in milliseconds.
    #[pyfunction]
    fn wait_for_ms(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyWaitFor>> {
        let (aw, timeout) = wait_for_args("wait_for_ms", args, vm)?;
        PyWaitFor::new(aw, timeout, true, vm)
    }

    /// The arguments of MicroPython's `wait_for(aw, timeout, sleep=sleep)`, by position or by
    /// name (`timeout=` is common; CPython's first parameter is `fut`), with MicroPython's
    /// messages. The `sleep` argument is accepted and not used.
    fn wait_for_args(name: &str, args: FuncArgs, vm: &VirtualMachine) -> PyResult<(PyObjectRef, PyObjectRef)> {
        const PARAMS: [&str; 3] = ["aw", "timeout", "sleep"];
        let given = args.args.len();
        if given > PARAMS.len() {
            return Err(vm.new_type_error(format!("{name}() takes 3 positional arguments but {given} were given")));
        }
        let mut bound: [Option<PyObjectRef>; 3] = Default::default();
        for (slot, value) in bound.iter_mut().zip(args.args) {
            *slot = Some(value);
        }
        for (key, value) in args.kwargs {
            let index = match key.as_str().unwrap_or_default() {
                "aw" | "fut" => 0,
                "timeout" => 1,
                "sleep" => 2,
                _ => return Err(vm.new_type_error(format!("unexpected keyword argument '{key}'"))),
            };
            if bound[index].replace(value).is_some() {
                return Err(vm.new_type_error(format!("function got multiple values for argument '{}'", PARAMS[index])));
            }
        }
        let [aw, timeout, _sleep] = bound;
        match (aw, timeout) {
            (Some(aw), Some(timeout)) => Ok((aw, timeout)),
            _ => Err(vm.new_type_error(format!("{name}() takes 2 positional arguments but {given} were given"))),
        }
    }

    /// Runs the awaitables concurrently and returns their results in argument order. With
    /// `return_exceptions=True` exceptions are returned in the list instead of raised.
    ///
    /// The awaitables are taken from `args` whole: binding them as `PosArgs` takes them off the
    /// front one at a time, which costs O(n^2) (400 M instructions for 10,000 awaitables).
    #[pyfunction]
    fn gather(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyGather>> {
        let mut return_exceptions = false;
        for (name, value) in args.kwargs {
            if name.as_str() != Ok("return_exceptions") {
                return Err(vm.new_type_error(format!("unexpected keyword argument '{name}'")));
            }
            return_exceptions = value.try_to_bool(vm)?;
        }
        PyGather::new(args.args, return_exceptions, vm)
    }

    /// Returns the event loop.
    #[pyfunction]
    fn get_event_loop(_args: FuncArgs, vm: &VirtualMachine) -> PyRef<PyLoop> {
        event_loop(vm)
    }

    /// Resets the event loop (dropping every queued task) and returns it.
    #[pyfunction]
    fn new_event_loop(vm: &VirtualMachine) -> PyRef<PyLoop> {
        sched().reset();
        super::future::set_loop_closed(false);
        event_loop(vm)
    }

    #[pyattr]
    #[pyclass(module = "asyncio", name = "Loop")]
    #[derive(Debug, PyPayload)]
    pub struct PyLoop {}

    /// `Loop()`: MicroPython's Loop is a plain class, which programs may instantiate or
    /// subclass; every instance drives the one loop.
    impl rustpython_vm::types::Constructor for PyLoop {
        // Anything, as MicroPython's `Loop(...)` takes (its class has no `__init__`).
        type Args = FuncArgs;
        fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
            Ok(PyLoop {})
        }
    }

    #[pyclass(with(rustpython_vm::types::Constructor), flags(BASETYPE))]
    impl PyLoop {
        /// Schedules `coro` as a new task (CPython's `name=` names it).
        #[pymethod]
        fn create_task(_zelf: &Py<Self>, args: CreateTaskArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyTask>> {
            spawn_named(args, vm)
        }

        /// Runs until `stop()` is called.
        #[pymethod]
        fn run_forever(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
            super::future::set_loop_closed(false);
            let stopper = PyTask::native(super::task::NativeCoro::Stopper, vm);
            let s = sched();
            *s.stop_task.borrow_mut() = Some(stopper.clone());
            let result = s.run(Some(stopper), vm).map(drop);
            s.stop_task.borrow_mut().take();
            result
        }

        /// Runs `aw` (promoted to a task) to completion and returns its value.
        #[pymethod]
        fn run_until_complete(_zelf: &Py<Self>, aw: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
            run_until(promote_to_task(aw, vm)?, vm)
        }

        /// Stops `run_forever` once the tasks queued before this call have taken their step.
        #[pymethod]
        fn stop(_zelf: &Py<Self>) {
            let s = sched();
            let stopper = s.stop_task.borrow_mut().take();
            if let Some(stopper) = stopper {
                s.push_ready(stopper);
            }
        }

        /// Closes the loop: nothing to release, but `is_closed()` says True, and CPython's
        /// scheduling methods refuse, until the loop runs again or `new_event_loop()` renews
        /// it (MicroPython runs a closed loop).
        #[pymethod]
        fn close(_zelf: &Py<Self>) {
            super::future::set_loop_closed(true);
        }

        /// CPython's `call_soon(callback, *args, context=None)`: calls `callback(*args)` once
        /// the tasks and callbacks queued before it have had their turn.
        #[pymethod]
        fn call_soon(_zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::future::PyHandle>> {
            super::future::loop_call_soon(args, vm)
        }

        /// CPython's `call_soon_threadsafe(callback, *args, context=None)`, for a `_thread` or
        /// `threading` thread: those take turns with the loop on its OS thread (see
        /// `threads.rs`), so the callback is queued as `call_soon` queues it; the loop, waiting
        /// while the thread ran, looks at its queue again when the thread gives up its turn.
        #[pymethod]
        fn call_soon_threadsafe(_zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::future::PyHandle>> {
            super::future::loop_call_soon(args, vm)
        }

        /// CPython's `call_later(delay, callback, *args, context=None)`: a TimerHandle.
        #[pymethod]
        fn call_later(_zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::future::PyHandle>> {
            super::future::loop_call_later(args, vm)
        }

        /// CPython's `call_at(when, callback, *args, context=None)`, `when` on `time()`'s clock.
        #[pymethod]
        fn call_at(_zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<super::future::PyHandle>> {
            super::future::loop_call_at(args, vm)
        }

        /// CPython's `time()`: the loop's clock in seconds (the one `sleep` and `call_at` use).
        #[pymethod]
        fn time(_zelf: &Py<Self>) -> f64 {
            super::future::loop_time()
        }

        /// CPython's `create_future()`: a pending Future.
        #[pymethod]
        fn create_future(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyRef<super::future::PyFuture>> {
            super::future::create_future(vm)
        }

        /// CPython's `is_running()`: whether a run method is on the stack.
        #[pymethod]
        fn is_running(_zelf: &Py<Self>) -> bool {
            sched().running.get() > 0
        }

        /// CPython's `is_closed()`: whether `close()` was called since the loop last ran.
        #[pymethod]
        fn is_closed(_zelf: &Py<Self>) -> bool {
            super::future::loop_closed()
        }

        /// CPython's `shutdown_asyncgens()`: an awaitable with nothing to do.
        #[pymethod]
        fn shutdown_asyncgens(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
            super::done_awaitable(vm)
        }

        /// CPython's `shutdown_default_executor()`: nothing to do, there are no threads.
        #[pymethod]
        fn shutdown_default_executor(_zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyObjectRef {
            super::done_awaitable(vm)
        }

        /// CPython's `run_in_executor(executor, func, *args)`: `func(*args)` runs in a thread
        /// of its own (a `_thread` thread, see `threads.rs`) whatever the executor, and the
        /// Future returned gets its value or exception.
        #[pymethod]
        fn run_in_executor(_zelf: &Py<Self>, _executor: PyObjectRef, func: PyObjectRef, args: PosArgs, vm: &VirtualMachine) -> PyResult {
            let run = cpython_api(vm)?.get_attr("_run_in_thread", vm)?;
            run.call((func, vm.ctx.new_tuple(args.into_vec()), vm.ctx.new_dict()), vm)
        }

        /// Installs `handler(loop, context)` for exceptions nobody retrieved; None restores the
        /// default.
        #[pymethod]
        fn set_exception_handler(_zelf: &Py<Self>, handler: PyObjectRef, vm: &VirtualMachine) {
            *sched().exc_handler.borrow_mut() = if vm.is_none(&handler) { None } else { Some(handler) };
        }

        /// The installed handler, or None.
        #[pymethod]
        fn get_exception_handler(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
            sched().exc_handler.borrow().clone().unwrap_or_else(|| vm.ctx.none())
        }

        /// Prints the context on stderr. Accepts `(context)` and `(loop, context)`.
        #[pymethod]
        fn default_exception_handler(_zelf: &Py<Self>, args: PosArgs, vm: &VirtualMachine) -> PyResult<()> {
            let context = args
                .into_vec()
                .pop()
                .ok_or_else(|| vm.new_type_error("default_exception_handler() missing context"))?;
            super::core::default_exception_handler(&context, vm)
        }

        /// Calls the installed exception handler (or the default) with `context`.
        #[pymethod]
        fn call_exception_handler(_zelf: &Py<Self>, context: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
            sched().call_exception_handler(context, vm)
        }
    }

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        Scheduler::ensure_installed().map_err(|e| vm.new_os_error(e.to_string()))?;
        // The awaitables functions return are not module attributes: create their types here,
        // each with the cheap `__await__`, `throw` and `close` (see `fastpath`). Task keeps
        // MicroPython's attributes: cancelling a task that awaits a task cancels that one
        // instead of throwing at the `await`.
        use super::fastpath::init_awaitable;
        init_awaitable::<PySleep>(vm);
        init_awaitable::<PyWaitFor>(vm);
        init_awaitable::<PyGather>(vm);
        init_awaitable::<super::event::PyEventWait>(vm);
        init_awaitable::<super::event::PyFlagWait>(vm);
        init_awaitable::<super::lock::PyLockAcquire>(vm);
        init_awaitable::<super::PyDone>(vm);
        init_awaitable::<super::semaphore::PySemaphoreAcquire>(vm);
        init_awaitable::<super::condition::PyCondEnter>(vm);
        init_awaitable::<super::condition::PyConditionWait>(vm);
        init_awaitable::<super::condition::PyConditionWaitFor>(vm);
        init_awaitable::<super::barrier::PyBarrierWait>(vm);
        init_awaitable::<super::barrier::PyBarrierChange>(vm);
        super::queue::init_types(vm);
        super::fastpath::install_await(&PyTask::make_static_type(), vm);
        super::fastpath::install_await(&super::future::PyFuture::make_static_type(), vm);
        super::stream::init_types(vm);
        __module_exec(vm, module);
        let fast: [(&str, &[&str], super::fastpath::FastBody); 2] = [("sleep", &["t", "result"], sleep), ("sleep_ms", &["t"], sleep_ms)];
        for (name, params, body) in fast {
            let function = super::fastpath::FastFunction::new_ref(name, params, 1, body, vm);
            rustpython_vm::AsObject::as_object(module).set_attr(name, function, vm)?;
        }
        if !super::fastpath::set_lazy_names(rustpython_vm::AsObject::as_object(module), CPYTHON_NAMES, load_lazy_name, vm) {
            let getattr = vm.new_function("__getattr__", module_getattr);
            rustpython_vm::AsObject::as_object(module).set_attr("__getattr__", getattr, vm)?;
        }
        // A package, as MicroPython's asyncio is: `import asyncio.stream` finds the frozen
        // submodules in python-lib/asyncio/, which re-export from here.
        rustpython_vm::AsObject::as_object(module).set_attr("__path__", vm.ctx.new_list(vec![]), vm)?;
        Ok(())
    }
}
