//! Async host calls: the [`Completion`] the host completes from any thread, the awaitable
//! Python gets for it, and the Rust futures the loop drives for `async_fn` functions.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use microloop_core::Notifier;
use rustpython_vm::{
    AsObject, Py, PyPayload, PyRef, PyResult, VirtualMachine,
    protocol::PyIterReturn,
    pyclass,
    types::{IterNext, Iterable, Representable, SelfIter},
};

use super::source::HostSource;
use super::{HostError, lock};
use crate::Value;
use crate::asyncio::core::{current_task, sched};
use crate::asyncio::task::PyTask;

/// What a future-returning host function gives back: the future the loop drives.
pub(super) type HostFuture = Pin<Box<dyn Future<Output = Result<Value, HostError>>>>;

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
pub(super) struct CallShared {
    /// `module.function`, for the error a dropped completion raises.
    name: String,
    state: Mutex<CallState>,
    /// What to run when the awaiting task is cancelled.
    on_cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// Wakes the loop when the call completes.
    notifier: Notifier,
}

impl CallShared {
    /// A pending call of `name` (`module.function`) that wakes this thread's loop when done.
    pub(super) fn new(name: String) -> Arc<Self> {
        Arc::new(CallShared {
            name,
            state: Mutex::new(CallState::Pending),
            on_cancel: Mutex::new(None),
            notifier: sched().notifier(),
        })
    }

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
    pub(super) fn new(call: Arc<CallShared>) -> Self {
        Completion { call: Some(call) }
    }

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
    /// The awaitable of a call the host completes through its [`Completion`].
    pub(super) fn new(call: Arc<CallShared>) -> Self {
        PyHostCall { call, driven: None, waiter: RefCell::new(None) }
    }

    /// The awaitable of a call made as `future`, polled once at once: the first poll starts
    /// the work, as calling a Completion-based function does.
    pub(super) fn driving(call: Arc<CallShared>, future: HostFuture) -> Self {
        let driven = Driven { future: RefCell::new(Some(future)), wake: Arc::new(FutureWake::new(call.clone())) };
        let host_call = PyHostCall { call, driven: Some(driven), waiter: RefCell::new(None) };
        host_call.drive();
        host_call
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
        let s = sched();
        HostSource::of(&s).park(cur, me);
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}
