//! Host modules: Python modules of Rust functions, and the function objects Python calls.

use std::fmt;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use rustpython_vm::{
    Py, PyObjectRef, PyPayload, PyResult, VirtualMachine,
    class::PyClassImpl,
    function::FuncArgs,
    pyclass,
    types::{Callable, Representable},
};

use super::HostError;
use super::call::{CallShared, Completion, HostFuture, PyHostCall};
use crate::Value;

/// A plain host function: positional arguments in, a value or an error out.
type SyncFn = dyn Fn(&[Value]) -> Result<Value, HostError>;
/// An async host function: starts its work and completes the [`Completion`] later; an error
/// returned at once is raised by the call itself, before anything is awaited.
type AsyncFn = dyn Fn(&[Value], Completion) -> Result<(), HostError>;
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
        CallShared::new(format!("{}.{}", self.module, self.name))
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
                f(&values, Completion::new(call.clone())).map_err(|e| e.to_python(vm))?;
                Ok(PyHostCall::new(call).into_ref(&vm.ctx).into())
            }
            WeakFn::Future(f) => {
                let future = f.upgrade().ok_or_else(gone)?(&values).map_err(|e| e.to_python(vm))?;
                Ok(PyHostCall::driving(zelf.new_call(), future).into_ref(&vm.ctx).into())
            }
        }
    }
}
