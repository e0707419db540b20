//! What a Rust host gives a runtime, and how it talks to a running script.
//!
//! - [`HostModule`]: a Python module of Rust functions. Plain ones return at once; async ones
//!   hand the host a [`Completion`] and give Python an awaitable that finishes when the host
//!   completes it, from any thread.
//! - [`Handle`]: `Send` and `Clone`; it sets named ThreadSafeFlags, queues calls of Python
//!   functions on the loop, stops `run_forever` and interrupts a run, from any thread.
//!
//! Everything that crosses threads meets in one [`Link`] per runtime: the loop's [`Notifier`]
//! wakes the poller, and the loop reads what arrived on its own thread.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use microloop_core::Notifier;
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseException, PyBaseExceptionRef},
    class::PyClassImpl,
    function::FuncArgs,
    protocol::PyIterReturn,
    pyclass,
    signal::UserSignalSender,
    types::{Callable, IterNext, Iterable, Representable, SelfIter},
};

use crate::Value;
use crate::asyncio::FlagShared;
use crate::asyncio::core::{current_task, sched};
use crate::asyncio::task::PyTask;

/// Locks `m`, carrying on if a thread panicked while holding it: every value behind these
/// locks is valid at every point, so a poisoned lock holds nothing half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The Python exception a [`HostError`] raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ValueError`: an argument of the right type with a wrong value.
    ValueError,
    /// `TypeError`: an argument of the wrong type.
    TypeError,
    /// `RuntimeError`: anything else that went wrong.
    RuntimeError,
    /// `OSError` with this errno (`errno.EIO` is 5): the device or system failed.
    OSError(i32),
    /// `TimeoutError` (an `OSError` with `ETIMEDOUT`, as MicroPython raises it).
    TimeoutError,
    /// `KeyError`: no such key.
    KeyError,
    /// `IndexError`: an index out of range.
    IndexError,
    /// `NotImplementedError`.
    NotImplementedError,
}

/// An error a host function returns; Python code sees it raised as the exception its
/// [`ErrorKind`] names, with the message as its argument.
///
/// ```
/// use microloop_runtime::{ErrorKind, HostError};
/// let e = HostError::value_error("channel must be 0-3");
/// assert_eq!(e.kind(), ErrorKind::ValueError);
/// assert_eq!(e.to_string(), "ValueError: channel must be 0-3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    kind: ErrorKind,
    message: String,
}

impl HostError {
    /// An error raising `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HostError { kind, message: message.into() }
    }

    /// A `ValueError`.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValueError, message)
    }

    /// A `TypeError`.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TypeError, message)
    }

    /// A `RuntimeError`.
    pub fn runtime_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RuntimeError, message)
    }

    /// An `OSError` with `errno` (its `errno` attribute and first argument) and `message`.
    pub fn os_error(errno: i32, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OSError(errno), message)
    }

    /// Which exception this raises.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The exception's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The Python exception this error raises.
    pub(crate) fn to_python(&self, vm: &VirtualMachine) -> PyBaseExceptionRef {
        let ex = &vm.ctx.exceptions;
        let msg: PyObjectRef = vm.ctx.new_str(self.message.as_str()).into();
        let (cls, args) = match self.kind {
            ErrorKind::ValueError => (ex.value_error, vec![msg]),
            ErrorKind::TypeError => (ex.type_error, vec![msg]),
            ErrorKind::RuntimeError => (ex.runtime_error, vec![msg]),
            ErrorKind::OSError(errno) => (ex.os_error, vec![vm.ctx.new_int(errno).into(), msg]),
            ErrorKind::TimeoutError => (ex.timeout_error, vec![msg]),
            ErrorKind::KeyError => (ex.key_error, vec![msg]),
            ErrorKind::IndexError => (ex.index_error, vec![msg]),
            ErrorKind::NotImplementedError => (ex.not_implemented_error, vec![msg]),
        };
        // Calling the class runs its constructor, which OSError and its subclasses need for
        // their own fields (errno, strerror).
        match cls.as_object().call(args, vm).map(|e| e.downcast::<PyBaseException>()) {
            Ok(Ok(exc)) => exc,
            Ok(Err(_)) => vm.new_runtime_error(self.message.clone()),
            Err(e) => e,
        }
    }
}

impl fmt::Display for HostError {
    /// `ValueError: message`, as the last line of a traceback shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.kind {
            ErrorKind::ValueError => "ValueError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::RuntimeError => "RuntimeError",
            ErrorKind::OSError(errno) => return write!(f, "OSError: [Errno {errno}] {}", self.message),
            ErrorKind::TimeoutError => "TimeoutError",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::IndexError => "IndexError",
            ErrorKind::NotImplementedError => "NotImplementedError",
        };
        write!(f, "{name}: {}", self.message)
    }
}

impl std::error::Error for HostError {}

// ---------------------------------------------------------------------------------------------
// Host modules

/// A plain host function: positional arguments in, a value or an error out.
type SyncFn = dyn Fn(&[Value]) -> Result<Value, HostError>;
/// An async host function: starts its work and completes the [`Completion`] later; an error
/// returned at once is raised by the call itself, before anything is awaited.
type AsyncFn = dyn Fn(&[Value], Completion) -> Result<(), HostError>;
/// What a future-returning host function gives back: the future the loop drives.
type HostFuture = Pin<Box<dyn Future<Output = Result<Value, HostError>>>>;
/// A host function returning a future; an error returned at once is raised by the call.
type FutureFn = dyn Fn(&[Value]) -> Result<HostFuture, HostError>;

/// A host function. The runtime owns it; Python's function objects only point at it, so the
/// host's closures (and whatever they hold: channels, devices) are dropped with the runtime
/// even if the interpreter leaks the Python objects.
#[derive(Clone)]
pub(crate) enum HostFn {
    Sync(Rc<SyncFn>),
    Async(Rc<AsyncFn>),
    Future(Rc<FutureFn>),
}

/// What a Python function object holds of a [`HostFn`].
enum WeakFn {
    Sync(Weak<SyncFn>),
    Async(Weak<AsyncFn>),
    Future(Weak<FutureFn>),
}

/// One entry of a [`HostModule`].
#[derive(Clone)]
enum Item {
    Fn(HostFn),
    Constant(Value),
}

/// A Python module made of Rust functions, which scripts import by name.
///
/// Arguments arrive as [`Value`]s, positional only (keyword arguments raise TypeError, as for
/// MicroPython's built-in functions), and an argument that has no `Value` form (a set, an
/// object) raises TypeError before the function is called.
///
/// ```
/// use microloop_runtime::{HostError, HostModule, Runtime, Value};
///
/// let adc = HostModule::new("adc")
///     .constant("CHANNELS", 4)
///     .function("read", |args| match args {
///         [Value::Int(ch @ 0..=3)] => Ok(Value::Int(100 * ch)),
///         [_] => Err(HostError::value_error("channel must be 0-3")),
///         _ => Err(HostError::type_error("read() takes 1 argument")),
///     });
/// let out = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
/// let sink = out.clone();
/// let rt = Runtime::builder()
///     .host_module(adc)
///     .stdout_fn(move |s| sink.borrow_mut().push_str(s))
///     .build()?;
/// rt.run_source("import adc\nprint(adc.CHANNELS, adc.read(2))\ntry:\n    adc.read(9)\nexcept ValueError as e:\n    print(e)\n", "<demo>")?;
/// assert_eq!(*out.borrow(), "4 200\nchannel must be 0-3\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HostModule {
    name: String,
    items: Vec<(String, Item)>,
}

impl fmt::Debug for HostModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.items.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HostModule").field("name", &self.name).field("items", &names).finish()
    }
}

impl HostModule {
    /// An empty module that scripts import as `name`.
    pub fn new(name: impl Into<String>) -> Self {
        HostModule { name: name.into(), items: Vec::new() }
    }

    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a function Python calls as `name(*args)`; it runs on the loop's thread and blocks
    /// the loop while it runs, so it should return quickly.
    pub fn function(mut self, name: impl Into<String>, f: impl Fn(&[Value]) -> Result<Value, HostError> + 'static) -> Self {
        self.items.push((name.into(), Item::Fn(HostFn::Sync(Rc::new(f)))));
        self
    }

    /// Adds an async function: Python calls `name(*args)` and awaits what it returns.
    ///
    /// `f` runs on the loop's thread when Python calls the function. It starts the work (hands
    /// the [`Completion`] to a worker thread, a channel, a callback) and returns; the task
    /// awaiting the call sleeps until the completion is completed, from any thread, without
    /// holding up other tasks. An `Err` from `f` itself is raised at the call.
    ///
    /// If the awaiting task is cancelled (`task.cancel()`, a `wait_for` timeout), the
    /// completion reports it: see [`Completion::is_cancelled`] and [`Completion::on_cancel`].
    pub fn async_function(
        mut self,
        name: impl Into<String>,
        f: impl Fn(&[Value], Completion) -> Result<(), HostError> + 'static,
    ) -> Self {
        self.items.push((name.into(), Item::Fn(HostFn::Async(Rc::new(f)))));
        self
    }

    /// Adds an async function written as a Rust `Future`: Python calls `name(*args)` and awaits
    /// what it returns, and the loop drives the future on its own thread, polling it whenever
    /// its waker fires (from any thread). Cancelling the awaiting task drops the future.
    ///
    /// The future needs no executor of its own: a channel's receiver, a `JoinHandle` of a
    /// task spawned on another runtime, or any future that wakes its waker will do. Futures
    /// that need a particular runtime's reactor (its timers or sockets) must run there; await
    /// their handle here.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use microloop_runtime::{HostError, HostModule, Runtime, Value};
    ///
    /// // A oneshot-style channel built from std: the worker sends, the future receives.
    /// let m = HostModule::new("calc").async_fn("square", |args| {
    ///     let n = args.first().and_then(Value::as_int).ok_or_else(|| HostError::type_error("int expected"))?;
    ///     let (tx, rx) = mpsc::channel();
    ///     let slot = std::sync::Arc::new(std::sync::Mutex::new(None::<std::task::Waker>));
    ///     let waker_slot = slot.clone();
    ///     std::thread::spawn(move || {
    ///         tx.send(n * n).unwrap();
    ///         if let Some(w) = waker_slot.lock().unwrap().take() { w.wake() }
    ///     });
    ///     Ok(async move {
    ///         std::future::poll_fn(|cx| {
    ///             *slot.lock().unwrap() = Some(cx.waker().clone());
    ///             match rx.try_recv() {
    ///                 Ok(v) => std::task::Poll::Ready(Ok(Value::Int(v))),
    ///                 Err(_) => std::task::Poll::Pending,
    ///             }
    ///         })
    ///         .await
    ///     })
    /// });
    /// let rt = Runtime::builder().host_module(m).build()?;
    /// rt.run_source("import asyncio, calc\nasync def main():\n    assert await calc.square(12) == 144\nasyncio.run(main())\n", "<calc>")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn async_fn<F>(mut self, name: impl Into<String>, f: impl Fn(&[Value]) -> Result<F, HostError> + 'static) -> Self
    where
        F: Future<Output = Result<Value, HostError>> + 'static,
    {
        let f = move |args: &[Value]| f(args).map(|fut| Box::pin(fut) as HostFuture);
        self.items.push((name.into(), Item::Fn(HostFn::Future(Rc::new(f)))));
        self
    }

    /// Adds a module attribute with a fixed value.
    pub fn constant(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.items.push((name.into(), Item::Constant(value.into())));
        self
    }

    /// Builds the Python module and puts it in `sys.modules`; the functions go to `owner`.
    pub(crate) fn install(&self, vm: &VirtualMachine, owner: &mut Vec<HostFn>) -> PyResult<()> {
        let dict = vm.ctx.new_dict();
        dict.set_item("__name__", vm.ctx.new_str(self.name.as_str()).into(), vm)?;
        let _ = PyHostFunction::make_static_type();
        crate::asyncio::fastpath::init_awaitable::<PyHostCall>(vm);
        for (name, item) in &self.items {
            let value: PyObjectRef = match item {
                Item::Constant(v) => v.to_python(vm),
                Item::Fn(f) => {
                    let func = match f {
                        HostFn::Sync(f) => WeakFn::Sync(Rc::downgrade(f)),
                        HostFn::Async(f) => WeakFn::Async(Rc::downgrade(f)),
                        HostFn::Future(f) => WeakFn::Future(Rc::downgrade(f)),
                    };
                    owner.push(f.clone());
                    PyHostFunction { module: self.name.clone(), name: name.clone(), func }.into_ref(&vm.ctx).into()
                }
            };
            dict.set_item(name.as_str(), value, vm)?;
        }
        let module = vm.new_module(&self.name, dict, None);
        let modules = vm.sys_module.get_attr("modules", vm)?;
        modules.set_item(self.name.as_str(), module.into(), vm)
    }
}

/// A host function as Python sees it.
#[pyclass(module = "microloop", name = "function")]
#[derive(PyPayload)]
struct PyHostFunction {
    module: String,
    name: String,
    func: WeakFn,
}

impl fmt::Debug for PyHostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<host function {}.{}>", self.module, self.name)
    }
}

#[pyclass(with(Callable, Representable))]
impl PyHostFunction {}

impl Representable for PyHostFunction {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<function {}>", zelf.name))
    }
}

impl PyHostFunction {
    fn new_call(&self) -> Arc<CallShared> {
        Arc::new(CallShared {
            name: format!("{}.{}", self.module, self.name),
            state: Mutex::new(CallState::Pending),
            on_cancel: Mutex::new(None),
            notifier: sched().notifier(),
        })
    }
}

impl Callable for PyHostFunction {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        if !args.kwargs.is_empty() {
            return Err(vm.new_type_error("function doesn't take keyword arguments"));
        }
        let values = args.args.iter().map(|a| Value::from_python(a, vm)).collect::<PyResult<Vec<_>>>()?;
        let gone = || vm.new_runtime_error(format!("host function {}.{} called after its runtime ended", zelf.module, zelf.name));
        match &zelf.func {
            WeakFn::Sync(f) => match f.upgrade().ok_or_else(gone)?(&values) {
                Ok(v) => Ok(v.to_python(vm)),
                Err(e) => Err(e.to_python(vm)),
            },
            WeakFn::Async(f) => {
                let f = f.upgrade().ok_or_else(gone)?;
                let call = zelf.new_call();
                f(&values, Completion { call: Some(call.clone()) }).map_err(|e| e.to_python(vm))?;
                Ok(PyHostCall::new(call, None).into_ref(&vm.ctx).into())
            }
            WeakFn::Future(f) => {
                let future = f.upgrade().ok_or_else(gone)?(&values).map_err(|e| e.to_python(vm))?;
                let call = zelf.new_call();
                let driven = Driven { future: RefCell::new(Some(future)), wake: Arc::new(FutureWake::new(call.clone())) };
                let host_call = PyHostCall::new(call, Some(driven));
                // The first poll starts the work, as calling a Completion-based function does.
                host_call.drive();
                Ok(host_call.into_ref(&vm.ctx).into())
            }
        }
    }
}

/// Where an async host call stands.
enum CallState {
    /// The host is working on it.
    Pending,
    /// The awaiting task was cancelled before the host completed it.
    Cancelled,
    /// The host completed it.
    Done(Result<Value, HostError>),
}

/// An async host call, shared by its [`Completion`] (any thread) and its awaitable (the loop).
struct CallShared {
    /// `module.function`, for the error a dropped completion raises.
    name: String,
    state: Mutex<CallState>,
    /// What to run when the awaiting task is cancelled.
    on_cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// Wakes the loop when the call completes.
    notifier: Notifier,
}

impl CallShared {
    fn is_done(&self) -> bool {
        matches!(*lock(&self.state), CallState::Done(_))
    }

    /// Marks the call cancelled, unless the host has completed it, and runs its cancel hook.
    fn cancel(&self) {
        {
            let mut state = lock(&self.state);
            if !matches!(*state, CallState::Pending) {
                return;
            }
            *state = CallState::Cancelled;
        }
        let hook = lock(&self.on_cancel).take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

/// The host's side of one async call: complete it once, from any thread, with the value the
/// awaiting Python task receives or the error it raises.
///
/// Dropping a completion without completing it raises RuntimeError in the awaiting task, so a
/// host that loses a call cannot leave a task waiting forever.
///
/// ```
/// use std::time::Duration;
/// use microloop_runtime::{HostModule, Runtime};
///
/// let slow = HostModule::new("bus").async_function("transfer", |args, done| {
///     let n = args.len() as i64;
///     // The work happens elsewhere; the loop runs other tasks meanwhile.
///     std::thread::spawn(move || {
///         std::thread::sleep(Duration::from_millis(10));
///         done.ok(n * 8);
///     });
///     Ok(())
/// });
/// let rt = Runtime::builder().host_module(slow).build()?;
/// rt.run_source(
///     "import asyncio, bus\nasync def main():\n    assert await bus.transfer(1, 2) == 16\nasyncio.run(main())\n",
///     "<bus>",
/// )?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Completion {
    /// None once completed.
    call: Option<Arc<CallShared>>,
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.call.as_ref().map(|c| c.name.as_str());
        f.debug_struct("Completion").field("call", &name).field("cancelled", &self.is_cancelled()).finish()
    }
}

impl Completion {
    /// Completes the call: the awaiting task resumes with `Ok`'s value or raises `Err`'s
    /// exception. Does nothing if the task was cancelled meanwhile.
    pub fn complete(mut self, result: Result<Value, HostError>) {
        if let Some(call) = self.call.take() {
            Self::finish(&call, result);
        }
    }

    /// Completes the call with a value.
    pub fn ok(self, value: impl Into<Value>) {
        self.complete(Ok(value.into()));
    }

    /// Completes the call with an error.
    pub fn err(self, error: HostError) {
        self.complete(Err(error));
    }

    /// Whether the awaiting task was cancelled: the result is no longer wanted.
    pub fn is_cancelled(&self) -> bool {
        self.call.as_ref().is_some_and(|c| matches!(*lock(&c.state), CallState::Cancelled))
    }

    /// Runs `hook` when the awaiting task is cancelled: on the loop's thread at the
    /// cancellation, or at once on this thread if that has happened already. A later call
    /// replaces an earlier hook.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        let Some(call) = &self.call else { return };
        let mut slot = lock(&call.on_cancel);
        if self.is_cancelled() {
            drop(slot);
            hook();
        } else {
            *slot = Some(Box::new(hook));
        }
    }

    fn finish(call: &CallShared, result: Result<Value, HostError>) {
        {
            let mut state = lock(&call.state);
            if !matches!(*state, CallState::Pending) {
                return;
            }
            *state = CallState::Done(result);
        }
        call.notifier.notify();
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            let message = format!("{} dropped its completion without a result", call.name);
            Self::finish(&call, Err(HostError::runtime_error(message)));
        }
    }
}

/// What an async host function returns to Python: await it for the host's result.
#[pyclass(module = "microloop", name = "HostCall")]
#[derive(PyPayload)]
pub(crate) struct PyHostCall {
    call: Arc<CallShared>,
    /// The future the loop drives, for a function added with `async_fn`.
    driven: Option<Driven>,
    /// The task awaiting the call, while it sleeps.
    waiter: RefCell<Option<PyRef<PyTask>>>,
}

/// A host future and its waker.
struct Driven {
    /// None once it has finished or been dropped at cancellation.
    future: RefCell<Option<HostFuture>>,
    wake: Arc<FutureWake>,
}

/// The waker of a host future: marks it for polling and wakes the loop.
struct FutureWake {
    /// Set by `wake`, taken by the poll.
    woken: AtomicBool,
    /// The call, whose notifier wakes the loop.
    call: Arc<CallShared>,
}

impl FutureWake {
    fn new(call: Arc<CallShared>) -> Self {
        FutureWake { woken: AtomicBool::new(true), call }
    }
}

impl std::task::Wake for FutureWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.call.notifier.notify();
    }
}

impl fmt::Debug for PyHostCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<HostCall {}>", self.call.name)
    }
}

impl PyHostCall {
    fn new(call: Arc<CallShared>, driven: Option<Driven>) -> Self {
        PyHostCall { call, driven, waiter: RefCell::new(None) }
    }

    /// Polls the host future if its waker fired; a finished future completes the call.
    pub(crate) fn drive(&self) {
        let Some(d) = &self.driven else { return };
        if !d.wake.woken.swap(false, Ordering::AcqRel) {
            return;
        }
        let Ok(mut slot) = d.future.try_borrow_mut() else { return };
        let Some(future) = slot.as_mut() else { return };
        let waker = std::task::Waker::from(d.wake.clone());
        if let std::task::Poll::Ready(result) = future.as_mut().poll(&mut std::task::Context::from_waker(&waker)) {
            slot.take();
            drop(slot);
            Completion::finish(&self.call, result);
        }
    }

    /// Drops the host future, if any: Rust's way of cancelling it.
    fn drop_future(&self) {
        if let Some(d) = &self.driven {
            let future = d.future.try_borrow_mut().ok().and_then(|mut f| f.take());
            drop(future);
        }
    }

    /// The sleeping task, if the host has completed the call.
    pub(crate) fn completed_waiter(&self) -> Option<PyRef<PyTask>> {
        if self.call.is_done() { self.waiter.borrow_mut().take() } else { None }
    }

    /// Forgets `task` as the waiter (it is being cancelled) and tells the host.
    pub(crate) fn cancel_wait(&self, task: &PyRef<PyTask>) {
        let mut waiter = self.waiter.borrow_mut();
        if waiter.as_ref().is_some_and(|w| w.is(task)) {
            waiter.take();
            drop(waiter);
            self.call.cancel();
            self.drop_future();
        }
    }

    /// Forgets the waiter (the loop is dropping its tasks) and tells the host.
    pub(crate) fn abandon(&self) {
        let waiter = self.waiter.borrow_mut().take();
        if waiter.is_some() {
            self.call.cancel();
            self.drop_future();
        }
    }

    pub(crate) fn has_waiter(&self) -> bool {
        self.waiter.borrow().is_some()
    }
}

#[pyclass(with(IterNext, Iterable, Representable))]
impl PyHostCall {}

impl Representable for PyHostCall {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<HostCall {}>", zelf.call.name))
    }
}

impl SelfIter for PyHostCall {}

impl IterNext for PyHostCall {
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        crate::asyncio::fastpath::AwaitWrapper::release_spare();
        zelf.drive();
        match &*lock(&zelf.call.state) {
            CallState::Done(Ok(v)) => return Ok(PyIterReturn::StopIteration(Some(v.to_python(vm)))),
            CallState::Done(Err(e)) => return Err(e.to_python(vm)),
            // The host was told to stop: awaiting the call again cannot give a result.
            CallState::Cancelled => return Err(crate::asyncio::new_cancelled_error(vm)),
            CallState::Pending => {}
        }
        let cur = current_task(vm)?;
        {
            let mut waiter = zelf.waiter.borrow_mut();
            if waiter.as_ref().is_some_and(|w| !w.is(&cur)) {
                return Err(vm.new_runtime_error("host call is already awaited by another task"));
            }
            *waiter = Some(cur.clone());
        }
        let me = zelf.to_owned();
        sched().park_host(cur, me);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

// ---------------------------------------------------------------------------------------------
// The cross-thread link and the Send handle

/// A request from another thread, handled on the loop's thread.
pub(crate) enum Message {
    /// `call_soon_threadsafe`: a callable's name and its arguments.
    Call(String, Vec<Value>),
    /// Stop `run_forever` (as `loop.stop()`).
    Stop,
}

/// The state one runtime shares with its [`Handle`]s and [`Completion`]s.
pub(crate) struct Link {
    /// Wakes the loop's poller.
    notifier: Notifier,
    /// Makes a running interpreter check for the interrupt between bytecodes.
    signal: Option<UserSignalSender>,
    /// Named ThreadSafeFlags, created by whichever side names one first.
    flags: Mutex<HashMap<String, Arc<FlagShared>>>,
    /// Calls and stops waiting for the loop.
    inbox: Mutex<VecDeque<Message>>,
    /// Set by `interrupt()`; taken by whichever of the loop and the interpreter sees it first.
    interrupt: AtomicBool,
    /// Set when the interrupt was raised, so the run's KeyboardInterrupt reads as
    /// [`crate::Error::Interrupted`].
    raised: AtomicBool,
    /// Live [`Handle`]s: while there is one, the host may still wake the loop.
    handles: AtomicUsize,
    /// The pending deadline (None: none) and whether the runtime is gone.
    deadline: Mutex<(Option<Instant>, bool)>,
    /// Wakes the deadline thread when the deadline changes or the runtime goes.
    deadline_changed: Condvar,
    /// Whether the watchdog thread is running.
    watchdog: AtomicBool,
    /// Whether a run is in progress.
    running: AtomicBool,
}

impl Link {
    pub(crate) fn new(notifier: Notifier, signal: Option<UserSignalSender>) -> Arc<Link> {
        Arc::new(Link {
            notifier,
            signal,
            flags: Mutex::new(HashMap::new()),
            inbox: Mutex::new(VecDeque::new()),
            interrupt: AtomicBool::new(false),
            raised: AtomicBool::new(false),
            handles: AtomicUsize::new(0),
            deadline: Mutex::new((None, false)),
            deadline_changed: Condvar::new(),
            watchdog: AtomicBool::new(false),
            running: AtomicBool::new(false),
        })
    }

    /// The flag named `name`, created if neither side has named it yet.
    pub(crate) fn flag(&self, name: &str) -> Arc<FlagShared> {
        lock(&self.flags).entry(name.to_owned()).or_insert_with(|| Arc::new(FlagShared::new(self.notifier.clone()))).clone()
    }

    /// Everything other threads sent since the last call.
    pub(crate) fn take_messages(&self) -> VecDeque<Message> {
        std::mem::take(&mut *lock(&self.inbox))
    }

    /// Whether a [`Handle`] exists, through which the host could still wake the loop.
    pub(crate) fn has_handles(&self) -> bool {
        self.handles.load(Ordering::Acquire) > 0
    }

    /// Takes a pending interrupt: the KeyboardInterrupt to raise, once.
    pub(crate) fn take_interrupt(&self, vm: &VirtualMachine) -> PyResult<()> {
        if self.interrupt.swap(false, Ordering::AcqRel) {
            self.raised.store(true, Ordering::Release);
            return Err(vm.new_exception_empty(vm.ctx.exceptions.keyboard_interrupt.to_owned()));
        }
        Ok(())
    }

    /// Forgets that an interrupt was raised (a new run starts).
    pub(crate) fn clear_raised(&self) {
        self.raised.store(false, Ordering::Release);
    }

    /// Whether the interrupt was raised since the run began.
    pub(crate) fn was_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
    }

    fn send(&self, message: Message) {
        lock(&self.inbox).push_back(message);
        self.notifier.notify();
    }

    /// Raises the interrupt: the loop sees it at its next wake-up, the interpreter at its next
    /// signal check. The watchdog thread re-arms the interpreter's check until the interrupt
    /// is taken (see [`Link::watch`]).
    fn interrupt(self: &Arc<Self>) {
        self.interrupt.store(true, Ordering::Release);
        self.notifier.notify();
        self.trigger();
        self.ensure_watchdog();
        self.deadline_changed.notify_all();
    }

    /// Queues the interrupt check on the interpreter, which runs it between bytecodes, so a
    /// script busy in pure Python is interrupted too.
    fn trigger(self: &Arc<Self>) {
        if let Some(signal) = &self.signal {
            let link = Arc::downgrade(self);
            // An error only means the interpreter is gone.
            let _ = signal.send(Box::new(move |vm| match link.upgrade() {
                Some(link) => link.take_interrupt(vm),
                None => Ok(()),
            }));
        }
    }

    /// Marks whether a run is in progress (the watchdog re-arms interrupts only then).
    pub(crate) fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Release);
        if running {
            self.deadline_changed.notify_all();
        }
    }

    /// The runtime is going away: the watchdog thread can end.
    pub(crate) fn close(&self) {
        lock(&self.deadline).1 = true;
        self.deadline_changed.notify_all();
    }

    fn set_deadline(self: &Arc<Self>, at: Instant) {
        {
            let mut d = lock(&self.deadline);
            if d.1 {
                return;
            }
            d.0 = Some(at);
        }
        self.deadline_changed.notify_all();
        self.ensure_watchdog();
    }

    fn ensure_watchdog(self: &Arc<Self>) {
        if !self.watchdog.swap(true, Ordering::AcqRel) {
            let link = self.clone();
            std::thread::spawn(move || link.watch());
        }
    }

    /// The watchdog thread, started by the first deadline or interrupt and ended with the
    /// runtime. It fires the deadline, and while an interrupt waits to be taken during a run it
    /// queues the check again every 10 ms: the interpreter's "signal pending" flag is one for
    /// the whole process, so another runtime's interpreter may clear it first and find
    /// nothing of its own to run.
    fn watch(self: Arc<Self>) {
        const REARM: Duration = Duration::from_millis(10);
        let mut d = lock(&self.deadline);
        loop {
            if d.1 {
                return;
            }
            let now = Instant::now();
            if d.0.is_some_and(|at| now >= at) {
                d.0 = None;
                drop(d);
                self.interrupt.store(true, Ordering::Release);
                self.notifier.notify();
                self.trigger();
                d = lock(&self.deadline);
                continue;
            }
            let pending = self.interrupt.load(Ordering::Acquire) && self.running.load(Ordering::Acquire);
            if pending {
                self.trigger();
            }
            let until_deadline = d.0.map(|at| at - now);
            let timeout = match (pending, until_deadline) {
                (true, Some(t)) => Some(t.min(REARM)),
                (true, None) => Some(REARM),
                (false, t) => t,
            };
            d = match timeout {
                Some(t) => self.deadline_changed.wait_timeout(d, t).unwrap_or_else(PoisonError::into_inner).0,
                None => self.deadline_changed.wait(d).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The error a [`Handle`] returns once its runtime has been dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the runtime has been dropped")
    }
}

impl std::error::Error for Closed {}

/// Talks to a [`Runtime`](crate::Runtime) from any thread. Get one with
/// [`Runtime::handle`](crate::Runtime::handle); clone it freely.
///
/// What it sends is handled on the loop's thread at the loop's next pass, even while the loop
/// is blocked in its poller; while no loop is running it waits for the next one. While a handle
/// exists the loop counts it as a way to be woken: `asyncio.run` keeps waiting for it instead
/// of returning when no task can otherwise make progress.
///
/// ```
/// use microloop_runtime::Runtime;
/// let rt = Runtime::builder().build()?;
/// let handle = rt.handle();
/// let worker = std::thread::spawn(move || handle.set_flag("go"));
/// rt.run_source(
///     "import asyncio, microloop\nasync def main():\n    await microloop.flag('go').wait()\nasyncio.run(main())\n",
///     "<wait>",
/// )?;
/// worker.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Handle {
    link: Arc<Link>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    pub(crate) fn new(link: Arc<Link>) -> Handle {
        link.handles.fetch_add(1, Ordering::AcqRel);
        Handle { link }
    }

    fn check(&self) -> Result<(), Closed> {
        if lock(&self.link.deadline).1 { Err(Closed) } else { Ok(()) }
    }

    /// Sets the ThreadSafeFlag that the script gets with `microloop.flag(name)`, waking the
    /// task waiting on it. Setting a flag no script has asked for yet creates it set.
    pub fn set_flag(&self, name: &str) -> Result<(), Closed> {
        self.check()?;
        self.link.flag(name).set();
        Ok(())
    }

    /// Calls a Python function on the loop's thread with `args`, as soon as the loop gets to it
    /// (`loop.call_soon_threadsafe`). `callable` names a global of `__main__`, or `module.name`
    /// for a function of an imported module.
    ///
    /// If the function returns a coroutine, it runs as a new task. An exception it raises, or
    /// a name that does not resolve, goes to the loop's exception handler (printed on stderr by
    /// default), as a callback's exception does in asyncio; the loop carries on.
    pub fn call_soon_threadsafe(&self, callable: &str, args: impl Into<Vec<Value>>) -> Result<(), Closed> {
        self.check()?;
        self.link.send(Message::Call(callable.to_owned(), args.into()));
        Ok(())
    }

    /// Stops `run_forever` after its current pass, as `loop.stop()` does from the script.
    pub fn stop(&self) -> Result<(), Closed> {
        self.check()?;
        self.link.send(Message::Stop);
        Ok(())
    }

    /// Raises KeyboardInterrupt in the script, as Ctrl-C does on a command line: in the loop if
    /// it is waiting, else between two bytecodes of whatever Python code is running. `finally`
    /// blocks and `except KeyboardInterrupt` run; if the exception ends the run, the run
    /// returns [`Error::Interrupted`](crate::Error::Interrupted). With no run in progress it
    /// interrupts the next one.
    pub fn interrupt(&self) -> Result<(), Closed> {
        self.check()?;
        self.link.interrupt();
        Ok(())
    }

    /// Interrupts the run at `deadline` (wall-clock time, also under a virtual clock), as
    /// [`interrupt`](Self::interrupt) does. A later deadline replaces an earlier one.
    pub fn interrupt_at(&self, deadline: Instant) -> Result<(), Closed> {
        self.check()?;
        self.link.set_deadline(deadline);
        Ok(())
    }

    /// Interrupts the run `after` from now.
    pub fn interrupt_after(&self, after: Duration) -> Result<(), Closed> {
        self.interrupt_at(Instant::now() + after)
    }

    /// Cancels a deadline set by [`interrupt_at`](Self::interrupt_at).
    pub fn clear_deadline(&self) {
        lock(&self.link.deadline).0 = None;
        self.link.deadline_changed.notify_all();
    }
}

impl Clone for Handle {
    fn clone(&self) -> Handle {
        Handle::new(self.link.clone())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.link.handles.fetch_sub(1, Ordering::AcqRel);
        // A loop that stayed awake only for this handle re-checks whether anything can wake it.
        self.link.notifier.notify();
    }
}

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Handle>();
    assert_send_sync::<Completion>();
};

/// Resolves `name` (a global of `__main__`, or `module.attr` of a module in `sys.modules`).
pub(crate) fn resolve_callable(name: &str, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    let (module, attr) = match name.rsplit_once('.') {
        Some((m, a)) => (m, a),
        None => ("__main__", name),
    };
    let not_found = || vm.new_name_error(format!("name '{name}' isn't defined"), vm.ctx.new_str(name));
    let module = modules.get_item(module, vm).map_err(|_| not_found())?;
    module.get_attr(&vm.ctx.new_str(attr), vm).map_err(|_| not_found())
}

/// The `microloop` module: what a script running inside a host uses to meet it.
#[rustpython_vm::pymodule(name = "microloop")]
pub(crate) mod microloop_mod {
    use rustpython_vm::{PyRef, VirtualMachine, builtins::PyStrRef};

    use crate::asyncio::core::sched;
    use crate::asyncio::event::PyThreadSafeFlag;

    /// The ThreadSafeFlag named `name`, which the host sets with `Handle::set_flag`. The same
    /// name gives the same flag.
    #[pyfunction]
    fn flag(name: PyStrRef, vm: &VirtualMachine) -> PyRef<PyThreadSafeFlag> {
        sched().named_flag(&name.to_string_lossy(), vm)
    }
}
