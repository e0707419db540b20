//! CPython's `asyncio.Future`, the loop's callback API (`call_soon`, `call_later`, `call_at` and
//! the `Handle`/`TimerHandle` they return), `isfuture` and `ensure_future`, beside MicroPython's
//! asyncio and with CPython's semantics and messages.
//!
//! A callback takes a place in the run queue as a task step does in CPython's ready queue: each
//! `call_soon` pushes a helper task ([`NativeCoro::Callback`]) that calls the callback when the
//! loop reaches it, so callbacks and task steps interleave in the order they were scheduled. A
//! `call_later`/`call_at` helper waits in the timer queue as a sleeping task does and runs at
//! its deadline, in deadline order with the sleeping tasks (CPython's timers and sleeps share
//! one heap); one made already due first moves to the back of the run queue, as CPython moves
//! a due timer behind the callbacks already ready. The helpers are not tasks to anybody: they are
//! never awaited, never reported, and an exception in a callback goes to the loop's exception
//! handler with CPython's context (`message`, `exception`, `handle`).
//!
//! A task awaiting a pending [`PyFuture`] parks among the future's done callbacks (its waiter
//! entry stands where CPython's task registers its wake-up callback), recorded on the task as
//! a [`Wait::Site`]: when the future completes, callbacks and waiting tasks are scheduled in the
//! order they were added. Cancelling a task that awaits a future detaches it
//! ([`Scheduler::detach`](super::core::Scheduler::detach), the one cancellation rule), and
//! [`FUTURE_SITE`]'s `remove` then cancels the future, as CPython's `Task.cancel` cancels the
//! future its task waits on.

use std::cell::{Cell, RefCell};

use microloop_core::{TimerKey, WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseException, PyBaseExceptionRef, PyCoroutine, PyDict, PyFunction, PyGenerator, PyTuple, PyType, PyTypeRef},
    function::FuncArgs,
    protocol::PyIterReturn,
    pyclass,
    types::{Constructor, Initializer, IterNext, Iterable, Representable, SelfIter},
};

use super::core::{current_task, escapes_loop, sched};
use super::task::{NativeCoro, PyTask, Wait, WaitSite};

/// Schedules `callback(*args)` to run once the tasks and callbacks already in the run queue
/// have had their turn (CPython's `loop.call_soon`), and returns its Handle. Task's done
/// callbacks and Future's go through here, so they are called as CPython calls them: from the
/// loop, never inline.
pub(crate) fn call_soon(callback: PyObjectRef, args: Vec<PyObjectRef>, vm: &VirtualMachine) -> PyResult<PyRef<PyHandle>> {
    Ok(schedule_soon(callback, args, vm))
}

/// [`call_soon`] itself, which cannot fail.
fn schedule_soon(callback: PyObjectRef, args: Vec<PyObjectRef>, vm: &VirtualMachine) -> PyRef<PyHandle> {
    let handle = PyHandle::new(callback, args, None).into_ref(&vm.ctx);
    let helper = PyTask::native(NativeCoro::Callback(handle.clone()), vm);
    sched().push_ready(helper);
    handle
}

// ---------------------------------------------------------------------------------------------
// Handle and TimerHandle

/// What a TimerHandle adds to a Handle: when it is due, and where its helper waits until then.
#[derive(Debug)]
struct TimerPart {
    /// The time given to `call_at` (or computed by `call_later`), in the loop's seconds: what
    /// `when()` returns.
    when: f64,
    /// The key of the helper task in the timer queue, until it falls due or is cancelled.
    key: Cell<Option<TimerKey>>,
    /// The address of the helper task, to tell it from another timer should the key be stale
    /// (the loop was reset and its queue replaced).
    helper_id: Cell<usize>,
    /// Set when the helper's next step calls the callback. A timer due in the future is made
    /// with it set: its helper runs at its deadline, ordered with sleeping tasks by deadline,
    /// as CPython's timers and sleeps share one heap. A timer already due when made (CPython's
    /// `call_later(0, f)`) first moves to the back of the run queue, behind what is ready, as
    /// CPython moves due timers behind the callbacks already ready.
    expired: Cell<bool>,
}

/// A scheduled callback (CPython's `asyncio.Handle`): `cancel()` stops it from being called.
#[pyclass(module = "asyncio.events", name = "Handle")]
#[derive(Debug, PyPayload)]
pub struct PyHandle {
    /// The callback; let go of when the handle is cancelled, as CPython does.
    callback: RefCell<Option<PyObjectRef>>,
    /// Its positional arguments.
    args: RefCell<Vec<PyObjectRef>>,
    /// Whether `cancel()` was called.
    cancelled: Cell<bool>,
    /// Set for the handles of `call_later` and `call_at` (TimerHandle).
    timer: Option<TimerPart>,
}

/// The handle `call_later` and `call_at` return: a Handle with `when()`. Objects of this class
/// hold a [`PyHandle`] and are used as one everywhere.
#[pyclass(module = "asyncio.events", name = "TimerHandle", base = PyHandle)]
#[derive(Debug)]
#[repr(transparent)]
pub struct PyTimerHandle(PyHandle);

impl PyHandle {
    fn new(callback: PyObjectRef, args: Vec<PyObjectRef>, timer: Option<TimerPart>) -> Self {
        PyHandle { callback: RefCell::new(Some(callback)), args: RefCell::new(args), cancelled: Cell::new(false), timer }
    }

    /// How the handle's callback reads in reprs and messages: `name(args) at file:line`, as
    /// CPython shows it; None once cancelled.
    fn describe(&self, vm: &VirtualMachine) -> Option<String> {
        let callback = self.callback.borrow().clone()?;
        let args = self.args.borrow().clone();
        Some(describe_callback(&callback, &args, vm))
    }

    /// The step of the helper task that runs this handle (the [`NativeCoro::Callback`] arm).
    /// A timer made already due first moves to the back of the run queue (see
    /// [`TimerPart::expired`]). Then the callback is called; an exception it raises goes to the
    /// exception handler, except those that end the loop (KeyboardInterrupt, SystemExit).
    pub(crate) fn step(zelf: &PyRef<Self>, thrown: Option<PyBaseExceptionRef>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        if thrown.is_some() || zelf.cancelled.get() {
            return Ok(PyIterReturn::StopIteration(None));
        }
        if let Some(timer) = &zelf.timer {
            // Out of the timer queue now: cancel() has no key to take out.
            timer.key.set(None);
        }
        if let Some(timer) = &zelf.timer
            && !timer.expired.replace(true)
        {
            let s = sched();
            if let Some(me) = s.current() {
                s.push_ready(me);
                return Ok(PyIterReturn::Return(vm.ctx.none()));
            }
        }
        let Some(callback) = zelf.callback.borrow().clone() else {
            return Ok(PyIterReturn::StopIteration(None));
        };
        let args = zelf.args.borrow().clone();
        match callback.call(args, vm) {
            Ok(_) => Ok(PyIterReturn::StopIteration(None)),
            Err(exc) if escapes_loop(&exc, vm) => Err(exc),
            Err(exc) => {
                let message = format!("Exception in callback {}", zelf.describe(vm).unwrap_or_default());
                report_error(&message, exc, "handle", zelf.clone().into(), vm)?;
                Ok(PyIterReturn::StopIteration(None))
            }
        }
    }
}

/// Calls the loop's exception handler with CPython's context for an error in a callback
/// (`message`, `exception`, and `key` naming where it happened). An error the handler raises is
/// printed by the default handler, as CPython logs it, unless it ends the loop.
fn report_error(message: &str, exc: PyBaseExceptionRef, key: &str, source: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
    let context = vm.ctx.new_dict();
    context.set_item("message", vm.ctx.new_str(message).into(), vm)?;
    context.set_item("exception", exc.into(), vm)?;
    context.set_item(key, source, vm)?;
    let Err(error) = sched().call_exception_handler(context.clone().into(), vm) else { return Ok(()) };
    if escapes_loop(&error, vm) {
        return Err(error);
    }
    let outer = vm.ctx.new_dict();
    outer.set_item("message", vm.ctx.new_str("Unhandled error in exception handler").into(), vm)?;
    outer.set_item("exception", error.into(), vm)?;
    outer.set_item("context", context.into(), vm)?;
    super::core::default_exception_handler(&outer.into(), vm)
}

#[pyclass(with(Representable))]
impl PyHandle {
    /// Stops the callback from being called (nothing happens if it has run already).
    #[pymethod]
    fn cancel(zelf: &Py<Self>) {
        if zelf.cancelled.replace(true) {
            return;
        }
        // Let go of the callback and its arguments, as CPython does; dropped after the borrows.
        let callback = zelf.callback.borrow_mut().take();
        let args = std::mem::take(&mut *zelf.args.borrow_mut());
        if let Some(timer) = &zelf.timer
            && let Some(key) = timer.key.take()
        {
            take_timer(key, timer.helper_id.get());
        }
        drop((callback, args));
    }

    /// Whether `cancel()` was called.
    #[pymethod]
    fn cancelled(zelf: &Py<Self>) -> bool {
        zelf.cancelled.get()
    }

    /// The context the callback runs in: microloop runs every callback in the one context.
    #[pymethod]
    fn get_context(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyObjectRef {
        vm.ctx.none()
    }
}

#[pyclass]
impl PyTimerHandle {
    /// The time the callback is due, in the seconds of `loop.time()`.
    #[pymethod]
    fn when(zelf: PyRef<PyHandle>) -> f64 {
        zelf.timer.as_ref().map_or(0.0, |t| t.when)
    }
}

/// Takes the timer helper under `key` out of the run queue. Should the key name another task
/// (it outlived a reset of the loop), that task is put back for its own deadline.
fn take_timer(key: TimerKey, helper_id: usize) {
    let s = sched();
    let removed = s.queue.borrow_mut().remove(key);
    let Some(task) = removed else { return };
    if task.get_id() == helper_id {
        drop(task);
        return;
    }
    match task.take_wait() {
        Wait::Timer(_, deadline) => {
            let key = s.queue.borrow_mut().push_at(deadline, task.clone());
            task.set_wait(Wait::Timer(key, deadline));
        }
        other => {
            task.set_wait(other);
            s.push_ready(task);
        }
    }
}

impl Representable for PyHandle {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let mut parts = vec![zelf.class().name().to_string()];
        if zelf.cancelled.get() {
            parts.push("cancelled".to_owned());
        }
        if let Some(timer) = &zelf.timer {
            parts.push(format!("when={}", PyObjectRef::from(vm.ctx.new_float(timer.when)).repr(vm)?));
        }
        if let Some(callback) = zelf.describe(vm) {
            parts.push(callback);
        }
        Ok(format!("<{}>", parts.join(" ")))
    }
}

/// `callback(*args)` as CPython's messages and reprs show it: the callback's qualified name
/// with the arguments (a `functools.partial` shows its own arguments first), then ` at
/// file:line` for a Python function.
fn describe_callback(callback: &PyObjectRef, args: &[PyObjectRef], vm: &VirtualMachine) -> String {
    let mut text = format_call(callback, args, &[], String::new(), vm);
    if let Some((file, line)) = function_source(callback, vm) {
        text.push_str(&format!(" at {file}:{line}"));
    }
    text
}

/// The parts of a `functools.partial`: its function, arguments and keyword arguments.
fn as_partial(obj: &PyObjectRef, vm: &VirtualMachine) -> Option<(PyObjectRef, Vec<PyObjectRef>, Vec<(String, PyObjectRef)>)> {
    let cls = obj.class();
    if cls.name().to_string() != "partial" {
        return None;
    }
    let func = obj.get_attr("func", vm).ok()?;
    let args = obj.get_attr("args", vm).ok()?.downcast::<PyTuple>().ok()?.as_slice().to_vec();
    let keywords = obj.get_attr("keywords", vm).ok()?.downcast::<PyDict>().ok()?;
    let keywords = keywords.into_iter().map(|(k, v)| (k.str(vm).map(|s| s.to_string()).unwrap_or_default(), v)).collect();
    Some((func, args, keywords))
}

/// `name(args)suffix`, unwrapping partials as CPython's `format_helpers` shows them.
fn format_call(func: &PyObjectRef, args: &[PyObjectRef], keywords: &[(String, PyObjectRef)], suffix: String, vm: &VirtualMachine) -> String {
    if let Some((inner, inner_args, inner_keywords)) = as_partial(func, vm) {
        let suffix = format!("{}{suffix}", format_arguments(args, keywords, vm));
        return format_call(&inner, &inner_args, &inner_keywords, suffix, vm);
    }
    let name = ["__qualname__", "__name__"]
        .iter()
        .filter_map(|attr| vm.get_attribute_opt(func.as_object(), *attr).ok().flatten())
        .filter_map(|n| n.str(vm).ok().map(|s| s.to_string()))
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| func.repr(vm).map(|r| r.to_string()).unwrap_or_default());
    format!("{name}{}{suffix}", format_arguments(args, keywords, vm))
}

/// `(a, b, k=v)`, each value shortened as CPython's `reprlib.repr` shortens it.
fn format_arguments(args: &[PyObjectRef], keywords: &[(String, PyObjectRef)], vm: &VirtualMachine) -> String {
    let mut items: Vec<String> = args.iter().map(|a| short_repr(a, vm)).collect();
    items.extend(keywords.iter().map(|(k, v)| format!("{k}={}", short_repr(v, vm))));
    format!("({})", items.join(", "))
}

/// `reprlib.repr(obj)`, or `repr(obj)` if reprlib cannot be had.
fn short_repr(obj: &PyObjectRef, vm: &VirtualMachine) -> String {
    let short = vm
        .import("reprlib", 0)
        .and_then(|m| m.get_attr("repr", vm))
        .and_then(|f| f.call((obj.clone(),), vm))
        .and_then(|r| r.str(vm));
    match short {
        Ok(s) => s.to_string(),
        Err(_) => obj.repr(vm).map(|r| r.to_string()).unwrap_or_else(|_| "<?>".to_owned()),
    }
}

/// Where a Python function (or the function a partial or a decorator wraps) is defined.
fn function_source(func: &PyObjectRef, vm: &VirtualMachine) -> Option<(String, i64)> {
    let mut func = func.clone();
    for _ in 0..100 {
        if let Some((inner, _, _)) = as_partial(&func, vm) {
            func = inner;
            continue;
        }
        match vm.get_attribute_opt(func.as_object(), "__wrapped__").ok().flatten() {
            Some(inner) => func = inner,
            None => break,
        }
    }
    func.downcast_ref::<PyFunction>()?;
    let code = func.get_attr("__code__", vm).ok()?;
    let file = code.get_attr("co_filename", vm).ok()?.str(vm).ok()?.to_string();
    let line = code.get_attr("co_firstlineno", vm).ok()?.try_to_value::<i64>(vm).ok()?;
    Some((file, line))
}

// ---------------------------------------------------------------------------------------------
// The loop's callback API (the methods of PyLoop in mod.rs call these)

thread_local! {
    /// Whether `loop.close()` was called since the loop last started running or was renewed
    /// (`is_closed()`).
    static LOOP_CLOSED: Cell<bool> = const { Cell::new(false) };
}

/// Sets `is_closed()`: True after `loop.close()` and at the end of `asyncio.run` (which closes
/// the loop it made in CPython), False again when the loop runs or is renewed.
pub(crate) fn set_loop_closed(closed: bool) {
    LOOP_CLOSED.with(|c| c.set(closed));
}

/// `loop.is_closed()`.
pub(crate) fn loop_closed() -> bool {
    LOOP_CLOSED.with(|c| c.get())
}

/// CPython's RuntimeError for scheduling on a closed loop.
fn check_open(vm: &VirtualMachine) -> PyResult<()> {
    if loop_closed() {
        return Err(vm.new_runtime_error("Event loop is closed"));
    }
    Ok(())
}

/// The arguments of `call_soon(callback, *args, context=None)` and the like, after `fixed`
/// leading ones: those, the callback and its arguments.
fn callback_args(method: &str, fixed: &[&str], args: FuncArgs, vm: &VirtualMachine) -> PyResult<(Vec<PyObjectRef>, PyObjectRef, Vec<PyObjectRef>)> {
    for name in args.kwargs.keys() {
        if name.as_str() != Ok("context") {
            return Err(vm.new_type_error(format!("BaseEventLoop.{method}() got an unexpected keyword argument '{name}'")));
        }
    }
    let mut positional = args.args;
    let wanted = fixed.len() + 1;
    if positional.len() < wanted {
        let names: Vec<String> = fixed.iter().chain(&["callback"]).skip(positional.len()).map(|n| format!("'{n}'")).collect();
        let names = match names.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => String::new(),
        };
        let missing = wanted - positional.len();
        let plural = if missing == 1 { "" } else { "s" };
        return Err(vm.new_type_error(format!(
            "BaseEventLoop.{method}() missing {missing} required positional argument{plural}: {names}"
        )));
    }
    let rest = positional.split_off(wanted);
    let callback = positional.pop().expect("checked above");
    Ok((positional, callback, rest))
}

/// `loop.call_soon(callback, *args, context=None)`.
pub(crate) fn loop_call_soon(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyHandle>> {
    let (_, callback, rest) = callback_args("call_soon", &[], args, vm)?;
    check_open(vm)?;
    Ok(schedule_soon(callback, rest, vm))
}

/// `loop.time()`: the scheduler's clock in seconds, the clock `call_at`, `call_later` and
/// `sleep` use, read as `time.monotonic()` reads (CPython's loop clock is `time.monotonic()`, and
/// programs mix the two: `loop.call_at(time.monotonic() + 5, ...)`).
pub(crate) fn loop_time() -> f64 {
    seconds(sched().read_us())
}

thread_local! {
    /// `time.monotonic()` minus the scheduler's clock, in whole microseconds, taken when the
    /// loop's clock is first read as seconds. Under virtual time the loop's clock then runs on
    /// from the same point.
    static CLOCK_OFFSET_US: Cell<Option<i128>> = const { Cell::new(None) };
}

/// The scheduler's microseconds `us` as seconds on `time.monotonic()`'s scale.
fn seconds(us: u64) -> f64 {
    (i128::from(us) + clock_offset_us()) as f64 / 1e6
}

/// The scheduler's microseconds at `when`, seconds on `time.monotonic()`'s scale.
fn microseconds(when: f64) -> u64 {
    if when.is_nan() {
        return 0;
    }
    (when * 1e6 - clock_offset_us() as f64).round().clamp(0.0, u64::MAX as f64 / 2.0) as u64
}

fn clock_offset_us() -> i128 {
    CLOCK_OFFSET_US.with(|cell| {
        if let Some(offset) = cell.get() {
            return offset;
        }
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `now` is a valid timespec for the call to fill.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } == 0;
        let monotonic_us = if ok { i128::from(now.tv_sec) * 1_000_000 + i128::from(now.tv_nsec) / 1000 } else { 0 };
        let offset = monotonic_us - i128::from(sched().read_us());
        cell.set(Some(offset));
        offset
    })
}

/// `loop.call_later(delay, callback, *args, context=None)`: `call_at(time() + delay, ...)`.
pub(crate) fn loop_call_later(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyHandle>> {
    let (fixed, callback, rest) = callback_args("call_later", &["delay"], args, vm)?;
    let now: PyObjectRef = vm.ctx.new_float(seconds(sched().now_us())).into();
    if vm.is_none(&fixed[0]) {
        return Err(vm.new_type_error("delay must not be None"));
    }
    let when = vm._add(&now, &fixed[0])?;
    call_at_time(when, callback, rest, vm)
}

/// `loop.call_at(when, callback, *args, context=None)`.
pub(crate) fn loop_call_at(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyHandle>> {
    let (fixed, callback, rest) = callback_args("call_at", &["when"], args, vm)?;
    call_at_time(fixed[0].clone(), callback, rest, vm)
}

/// Schedules `callback(*args)` for `when` (seconds on the loop's clock).
fn call_at_time(when: PyObjectRef, callback: PyObjectRef, args: Vec<PyObjectRef>, vm: &VirtualMachine) -> PyResult<PyRef<PyHandle>> {
    if vm.is_none(&when) {
        return Err(vm.new_type_error("when cannot be None"));
    }
    let when = when.try_float(vm)?.to_f64();
    check_open(vm)?;
    let deadline = microseconds(when);
    let in_future = deadline > sched().now_us();
    let timer = TimerPart { when, key: Cell::new(None), helper_id: Cell::new(0), expired: Cell::new(in_future) };
    let handle: PyObjectRef = PyTimerHandle(PyHandle::new(callback, args, Some(timer))).into_ref(&vm.ctx).into();
    // A TimerHandle holds a Handle: the downcast cannot fail.
    let handle = handle.downcast::<PyHandle>().map_err(|_| vm.new_runtime_error("TimerHandle is not a Handle"))?;
    let helper = PyTask::native(NativeCoro::Callback(handle.clone()), vm);
    let s = sched();
    let key = s.queue.borrow_mut().push_at(deadline, helper.clone());
    helper.set_wait(Wait::Timer(key, deadline));
    if let Some(timer) = &handle.timer {
        timer.key.set(Some(key));
        timer.helper_id.set(helper.get_id());
    }
    Ok(handle)
}

/// `loop.create_future()` (a closed loop makes one too, as CPython's does).
pub(crate) fn create_future(vm: &VirtualMachine) -> PyResult<PyRef<PyFuture>> {
    Ok(PyFuture::fresh().into_ref(&vm.ctx))
}

// ---------------------------------------------------------------------------------------------
// InvalidStateError

thread_local! {
    static INVALID_STATE_ERROR: std::cell::OnceCell<PyTypeRef> = const { std::cell::OnceCell::new() };
}

/// `asyncio.InvalidStateError`: raised for an operation a future's state does not allow (a
/// result asked of a pending future, a result set twice). An `Exception`, as in CPython.
pub(crate) fn invalid_state_error(vm: &VirtualMachine) -> PyTypeRef {
    INVALID_STATE_ERROR.with(|c| {
        c.get_or_init(|| {
            vm.ctx.new_exception_type(
                "asyncio.exceptions",
                "InvalidStateError",
                Some(vec![vm.ctx.exceptions.exception_type.to_owned()]),
            )
        })
        .clone()
    })
}

fn new_invalid_state(message: &str, vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_exception_msg(invalid_state_error(vm), message.into())
}

// ---------------------------------------------------------------------------------------------
// Future

/// Where a future stands.
#[derive(Debug)]
enum FutureState {
    /// No result yet.
    Pending,
    /// `set_result` or `set_exception` was called.
    Finished(Result<PyObjectRef, PyBaseExceptionRef>),
    /// `cancel(msg)` was called; the message goes into the CancelledError raised.
    Cancelled(Option<PyObjectRef>),
}

/// Someone to tell when a future completes, in the order they were added.
#[derive(Debug)]
enum Entry {
    /// A done callback, called with the future through `call_soon`.
    Callback(PyObjectRef),
    /// A task awaiting the future: it is woken (CPython's task wake-up callback).
    Waiter(PyRef<PyTask>),
}

/// CPython's `asyncio.Future`: a result that some code sets and tasks await. Subclassable, with
/// an instance dict made on the first attribute set.
#[pyclass(module = "_asyncio", name = "Future")]
#[derive(Debug, PyPayload)]
pub struct PyFuture {
    /// Pending, finished or cancelled.
    state: RefCell<FutureState>,
    /// Done callbacks and waiting tasks, oldest first, until the future completes.
    entries: RefCell<WaitQueue<Entry>>,
    /// CPython's `_asyncio_future_blocking` flag (kept for code that reads or sets it).
    blocking: Cell<bool>,
}

/// How the scheduler takes a task awaiting a future out of its entries: the task was cancelled
/// (or timed out), and as in CPython the future is cancelled with it.
pub(crate) static FUTURE_SITE: WaitSite = WaitSite { what: "Future", remove: site_remove, give_back: site_give_back };

fn site_remove(obj: &PyObject, key: WaitKey) {
    let Some(fut) = obj.downcast_ref::<PyFuture>() else { return };
    // Dropped after the borrow ends: dropping an object can run code.
    let removed = fut.entries.borrow_mut().remove(key);
    if removed.is_none() {
        // Woken by the future itself, which took the entry.
        return;
    }
    drop(removed);
    if fut.is_pending() {
        rustpython_vm::vm::thread::with_vm(obj, |vm| PyFuture::complete(fut, FutureState::Cancelled(None), vm));
    }
}

/// Cancels `obj`, a Future a task is cancelled while awaiting (its wait is a [`Wait::Site`]
/// with [`FUTURE_SITE`]), with CPython's `msg`: what CPython's `Task.cancel(msg)` does first.
/// Called before the task is detached, it schedules the future's callbacks and waiters (the
/// task among them) in the order they came, as CPython does; the task's detach then finds its
/// entry gone. Returns whether the future was pending.
pub(crate) fn cancel_future(obj: &PyObject, msg: Option<PyObjectRef>, vm: &VirtualMachine) -> bool {
    let Some(fut) = obj.downcast_ref::<PyFuture>() else { return false };
    if !fut.is_pending() {
        return false;
    }
    PyFuture::complete(fut, FutureState::Cancelled(msg.filter(|m| !vm.is_none(m))), vm);
    true
}

/// Nothing to give back: a future is not handed to one waiter.
fn site_give_back(_obj: &PyObject, _sched: &super::core::Scheduler) {}

impl PyFuture {
    fn fresh() -> Self {
        PyFuture { state: RefCell::new(FutureState::Pending), entries: RefCell::new(WaitQueue::new()), blocking: Cell::new(false) }
    }

    fn is_pending(&self) -> bool {
        matches!(*self.state.borrow(), FutureState::Pending)
    }

    /// Records the outcome and schedules everyone waiting, in the order they came: callbacks
    /// through `call_soon`, tasks woken. Only called on a pending future.
    fn complete(zelf: &Py<Self>, state: FutureState, vm: &VirtualMachine) {
        *zelf.state.borrow_mut() = state;
        let entries: Vec<Entry> = zelf.entries.borrow_mut().take_all().collect();
        let s = sched();
        for entry in entries {
            match entry {
                Entry::Callback(callback) => {
                    schedule_soon(callback, vec![zelf.to_owned().into()], vm);
                }
                Entry::Waiter(task) => s.wake(task),
            }
        }
    }

    /// The CancelledError a cancelled future raises: with the cancel message as its argument
    /// when one was given.
    fn cancelled_error(msg: &Option<PyObjectRef>, vm: &VirtualMachine) -> PyBaseExceptionRef {
        let args = msg.iter().cloned().collect();
        vm.new_exception(super::cancelled_error_type(vm), args)
    }

    /// The outcome as `result()` gives it.
    fn outcome(&self, vm: &VirtualMachine) -> PyResult {
        match &*self.state.borrow() {
            FutureState::Pending => Err(new_invalid_state("Result is not set.", vm)),
            FutureState::Cancelled(msg) => Err(PyFuture::cancelled_error(msg, vm)),
            FutureState::Finished(Ok(value)) => Ok(value.clone()),
            FutureState::Finished(Err(exc)) => Err(exc.clone()),
        }
    }

    /// InvalidStateError unless the future is pending (`set_result`, `set_exception`).
    fn check_pending(&self, vm: &VirtualMachine) -> PyResult<()> {
        if self.is_pending() { Ok(()) } else { Err(new_invalid_state("invalid state", vm)) }
    }

    /// `cb=[...]` of the repr: the first callback, the count of the middle ones and the last,
    /// as CPython shows them.
    fn callbacks_repr(&self, vm: &VirtualMachine) -> Option<String> {
        let shown: Vec<PyObjectRef> = self
            .entries
            .borrow()
            .iter()
            .map(|e| match e {
                Entry::Callback(cb) => Some(cb.clone()),
                Entry::Waiter(_) => None,
            })
            .map(|cb| cb.unwrap_or_else(|| vm.ctx.none()))
            .collect();
        let describe = |cb: &PyObjectRef| {
            if vm.is_none(cb) { "Task.task_wakeup()".to_owned() } else { describe_callback(cb, &[], vm) }
        };
        let text = match shown.as_slice() {
            [] => return None,
            [one] => describe(one),
            [a, b] => format!("{}, {}", describe(a), describe(b)),
            [first, middle @ .., last] => format!("{}, <{} more>, {}", describe(first), middle.len(), describe(last)),
        };
        Some(format!("cb=[{text}]"))
    }
}

/// `Future()` makes a pending future; the arguments are left to `__init__` (a subclass's own
/// takes what it likes).
impl Constructor for PyFuture {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        PyFuture::fresh().into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PyFuture::fresh())
    }
}

/// `Future.__init__(*, loop=None)`: takes the loop by keyword only, as CPython's does (there is
/// one loop).
impl Initializer for PyFuture {
    type Args = FuncArgs;
    fn init(_zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        if !args.args.is_empty() {
            return Err(vm.new_type_error("Future() takes no positional arguments"));
        }
        if let Some(name) = args.kwargs.keys().find(|k| k.as_str() != Ok("loop")) {
            return Err(vm.new_type_error(format!("'{name}' is an invalid keyword argument for Future()")));
        }
        Ok(())
    }
}

#[pyclass(with(Constructor, Initializer, IterNext, Iterable, Representable), flags(BASETYPE, HAS_DICT))]
impl PyFuture {
    /// The result: the value set, the exception set raised, CancelledError if cancelled,
    /// InvalidStateError while pending.
    #[pymethod]
    fn result(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        zelf.outcome(vm)
    }

    /// The exception set (None if a result was set); CancelledError if cancelled,
    /// InvalidStateError while pending.
    #[pymethod]
    fn exception(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult {
        match &*zelf.state.borrow() {
            FutureState::Pending => Err(new_invalid_state("Exception is not set.", vm)),
            FutureState::Cancelled(msg) => Err(PyFuture::cancelled_error(msg, vm)),
            FutureState::Finished(Ok(_)) => Ok(vm.ctx.none()),
            FutureState::Finished(Err(exc)) => Ok(exc.clone().into()),
        }
    }

    /// Sets the result and schedules the done callbacks; InvalidStateError if done already.
    #[pymethod]
    fn set_result(zelf: &Py<Self>, result: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        zelf.check_pending(vm)?;
        PyFuture::complete(zelf, FutureState::Finished(Ok(result)), vm);
        Ok(())
    }

    /// Sets the exception (a class is instantiated) and schedules the done callbacks.
    /// StopIteration is refused, as CPython refuses it.
    #[pymethod]
    fn set_exception(zelf: &Py<Self>, exception: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        zelf.check_pending(vm)?;
        let exception = if exception.downcast_ref::<PyType>().is_some() { exception.call((), vm)? } else { exception };
        let exc = exception
            .downcast::<PyBaseException>()
            .map_err(|_| vm.new_type_error("invalid exception object"))?;
        if exc.fast_isinstance(vm.ctx.exceptions.stop_iteration) {
            return Err(vm.new_type_error("StopIteration interacts badly with generators and cannot be raised into a Future"));
        }
        // The instantiation may have run code that completed the future.
        zelf.check_pending(vm)?;
        PyFuture::complete(zelf, FutureState::Finished(Err(exc)), vm);
        Ok(())
    }

    /// Cancels the future and schedules the done callbacks; False if it was done already.
    /// `msg` becomes the argument of the CancelledError raised.
    #[pymethod]
    fn cancel(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<bool> {
        let msg = cancel_message(args, vm)?;
        if !zelf.is_pending() {
            return Ok(false);
        }
        PyFuture::complete(zelf, FutureState::Cancelled(msg), vm);
        Ok(true)
    }

    /// Whether the future was cancelled.
    #[pymethod]
    fn cancelled(zelf: &Py<Self>) -> bool {
        matches!(*zelf.state.borrow(), FutureState::Cancelled(_))
    }

    /// Whether the future has a result, an exception, or was cancelled.
    #[pymethod]
    fn done(zelf: &Py<Self>) -> bool {
        !zelf.is_pending()
    }

    /// Adds `fn`, called with the future once it is done (from the loop, through
    /// `call_soon`; at once scheduled if it is done already). `context` is accepted and not
    /// used: microloop has one context.
    #[pymethod]
    fn add_done_callback(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let callback = one_positional(
            args,
            &["context"],
            |n| format!("add_done_callback() takes exactly 1 positional argument ({n} given)"),
            |k| format!("'{k}' is an invalid keyword argument for add_done_callback()"),
            vm,
        )?;
        if zelf.is_pending() {
            zelf.entries.borrow_mut().push_back(Entry::Callback(callback));
        } else {
            schedule_soon(callback, vec![zelf.to_owned().into()], vm);
        }
        Ok(())
    }

    /// Removes every registration of `fn` (compared with `==`); returns how many there were.
    #[pymethod]
    fn remove_done_callback(zelf: &Py<Self>, callback: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        // Compared outside the borrow: `==` can run code.
        let registered: Vec<(WaitKey, PyObjectRef)> = zelf
            .entries
            .borrow()
            .iter_keyed()
            .filter_map(|(key, e)| match e {
                Entry::Callback(cb) => Some((key, cb.clone())),
                Entry::Waiter(_) => None,
            })
            .collect();
        let mut count = 0;
        for (key, cb) in registered {
            if vm.identical_or_equal(&cb, &callback)? {
                // Dropped after the borrow ends: dropping an object can run code.
                let removed = zelf.entries.borrow_mut().remove(key);
                count += usize::from(removed.is_some());
                drop(removed);
            }
        }
        Ok(count)
    }

    /// The loop the future belongs to (there is one).
    #[pymethod]
    fn get_loop(_zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        super::loop_object(vm)
    }

    /// CPython's `_asyncio_future_blocking`, which `isfuture` looks for.
    #[pygetset]
    fn _asyncio_future_blocking(zelf: &Py<Self>) -> bool {
        zelf.blocking.get()
    }

    #[pygetset(setter)]
    fn set__asyncio_future_blocking(zelf: &Py<Self>, value: bool) {
        zelf.blocking.set(value);
    }

    /// `Future[int]` in annotations evaluated at run time.
    #[pyclassmethod]
    fn __class_getitem__(cls: PyTypeRef, item: PyObjectRef, vm: &VirtualMachine) -> PyResult<rustpython_vm::builtins::PyGenericAlias> {
        rustpython_vm::builtins::PyGenericAlias::from_args(cls, item, vm)
    }

    /// CPython's `_state`: 'PENDING', 'CANCELLED' or 'FINISHED'.
    #[pygetset]
    fn _state(zelf: &Py<Self>) -> &'static str {
        match *zelf.state.borrow() {
            FutureState::Pending => "PENDING",
            FutureState::Cancelled(_) => "CANCELLED",
            FutureState::Finished(_) => "FINISHED",
        }
    }
}

/// The `msg` of `cancel(msg=None)`, by position or keyword; None when not given.
fn cancel_message(args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
    let FuncArgs { args, kwargs } = args;
    if args.len() > 1 {
        return Err(vm.new_type_error(format!("cancel() takes at most 1 argument ({} given)", args.len() + kwargs.len())));
    }
    let mut msg = args.into_iter().next();
    for (name, value) in kwargs {
        if name.as_str() != Ok("msg") {
            return Err(vm.new_type_error(format!("'{name}' is an invalid keyword argument for cancel()")));
        }
        if msg.replace(value).is_some() {
            return Err(vm.new_type_error("argument for cancel() given by name ('msg') and position (1)"));
        }
    }
    Ok(msg.filter(|m| !vm.is_none(m)))
}

/// The one positional argument of `add_done_callback(fn, *, context=None)` or
/// `ensure_future(obj, *, loop=None)`, with the keywords `allowed` accepted and not used, and
/// CPython's message for a wrong count (`count_error`) or keyword (`keyword_error`).
fn one_positional(
    args: FuncArgs,
    allowed: &[&str],
    count_error: impl Fn(usize) -> String,
    keyword_error: impl Fn(&str) -> String,
    vm: &VirtualMachine,
) -> PyResult<PyObjectRef> {
    let FuncArgs { args, kwargs } = args;
    if let Some(name) = kwargs.keys().find(|k| !k.as_str().is_ok_and(|k| allowed.contains(&k))) {
        return Err(vm.new_type_error(keyword_error(&name.to_string())));
    }
    match <[PyObjectRef; 1]>::try_from(args) {
        Ok([obj]) => Ok(obj),
        Err(args) => Err(vm.new_type_error(count_error(args.len()))),
    }
}

impl SelfIter for PyFuture {}

/// `await fut` (`__await__` is a [`super::fastpath::AwaitSlot`]): the result at once if the
/// future is done; otherwise the running task parks among the future's entries and, woken when
/// it completes, takes the result (or the exception, or CancelledError) at its next step.
impl IterNext for PyFuture {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if !zelf.is_pending() {
            return zelf.outcome(vm).map(|v| PyIterReturn::StopIteration(Some(v)));
        }
        let cur = current_task(vm)?;
        let key = zelf.entries.borrow_mut().push_back(Entry::Waiter(cur.clone()));
        cur.set_wait(Wait::Site(zelf.to_owned().into(), key, &FUTURE_SITE));
        Ok(PyIterReturn::Return(zelf.to_owned().into()))
    }
}

impl Representable for PyFuture {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let mut parts = vec![zelf.class().name().to_string()];
        let state = match &*zelf.state.borrow() {
            FutureState::Pending => None,
            FutureState::Cancelled(_) => Some(("cancelled".to_owned(), None)),
            FutureState::Finished(Ok(v)) => Some(("finished".to_owned(), Some(Ok(v.clone())))),
            FutureState::Finished(Err(e)) => Some(("finished".to_owned(), Some(Err(e.clone())))),
        };
        match state {
            None => parts.push("pending".to_owned()),
            Some((name, outcome)) => {
                parts.push(name);
                match outcome {
                    Some(Ok(value)) => parts.push(format!("result={}", short_repr(&value, vm))),
                    Some(Err(exc)) => parts.push(format!("exception={}", exception_repr(&exc, vm)?)),
                    None => {}
                }
            }
        }
        if let Some(callbacks) = zelf.callbacks_repr(vm) {
            parts.push(callbacks);
        }
        Ok(format!("<{}>", parts.join(" ")))
    }
}

/// `repr(exc)` as CPython writes it, `ValueError('x')`, where the VM writes MicroPython's
/// `ValueError('x',)`; an exception class with a `__repr__` of its own is asked for it.
fn exception_repr(exc: &PyBaseExceptionRef, vm: &VirtualMachine) -> PyResult<String> {
    let name = rustpython_vm::identifier!(vm, __repr__);
    let own = exc.class().get_attr(name);
    let base = vm.ctx.exceptions.base_exception_type.get_attr(name);
    if !matches!((&own, &base), (Some(a), Some(b)) if a.is(b)) {
        return Ok(exc.as_object().repr(vm)?.to_string());
    }
    let args = exc.args();
    let inner = match args.as_slice() {
        [one] => one.repr(vm)?.to_string(),
        many => many.iter().map(|a| a.repr(vm).map(|r| r.to_string())).collect::<PyResult<Vec<_>>>()?.join(", "),
    };
    Ok(format!("{}({inner})", exc.class().name()))
}

// ---------------------------------------------------------------------------------------------
// Module functions

/// `isfuture(obj)`: True for a Future or a Task, and for any object whose class has
/// `_asyncio_future_blocking` with a value other than None, as CPython decides.
pub(crate) fn isfuture(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<bool> {
    if obj.downcastable::<PyFuture>() || obj.downcastable::<PyTask>() {
        return Ok(true);
    }
    let name = vm.ctx.intern_str("_asyncio_future_blocking");
    if !obj.class().has_attr(name) {
        return Ok(false);
    }
    let blocking = obj.get_attr(name, vm)?;
    Ok(!vm.is_none(&blocking))
}

/// `ensure_future(obj, *, loop=None)`: a Future or Task as it is, a coroutine as a new task, any
/// other awaitable wrapped in a task; TypeError otherwise, with CPython's message.
pub(crate) fn ensure_future(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let obj = one_positional(
        args,
        &["loop"],
        |n| match n {
            0 => "ensure_future() missing 1 required positional argument: 'coro_or_future'".to_owned(),
            n => format!("ensure_future() takes 1 positional argument but {n} were given"),
        },
        |k| format!("ensure_future() got an unexpected keyword argument '{k}'"),
        vm,
    )?;
    if isfuture(&obj, vm)? {
        return Ok(obj);
    }
    let awaitable = obj.downcastable::<PyCoroutine>()
        || obj.downcastable::<PyGenerator>()
        || obj.class().has_attr(rustpython_vm::identifier!(vm, __await__));
    if !awaitable {
        return Err(vm.new_type_error("An asyncio.Future, a coroutine or an awaitable is required"));
    }
    Ok(PyTask::spawn(obj, vm)?.into())
}
