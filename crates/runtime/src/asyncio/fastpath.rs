//! Cheaper entry points on the path every task step takes: `await x` and `sleep(t)`.
//!
//! `await x` on a native awaitable makes the VM look `__await__` up on the type and call it.
//! A `#[pymethod]` there is a method descriptor: each await builds a bound method, packs the
//! receiver into an argument vector, binds it and drops both again. The await cost about 1,600
//! instructions of the 7,700 a `switch` step took; it costs about 580 now. [`AwaitSlot`]
//! replaces the method: its `__get__` hands out a small [`AwaitWrapper`] that returns the
//! receiver when called, as CPython's `method-wrapper` does for `coroutine.__await__`.
//!
//! A call from Python to a builtin function copies its arguments into a `FuncArgs` and binds
//! them. [`FastFunction`] takes the VM's argument vector directly through the type's
//! vectorcall slot; `sleep` and `sleep_ms` use it.
//!
//! `asyncio.sleep` itself, like any `module.name`, went through the VM's generic attribute
//! lookup: an intern-table probe, a search of the module type's MRO, and a dict lookup that
//! hashes the name's bytes again (about 800 instructions). [`install_module_getattr`] puts a
//! module getattro in front that looks the name up in the module's dict with its cached hash,
//! and hands everything else to the VM's own.
//!
//! Cancelling a task throws into its coroutine, and the VM then looks for `throw` on the
//! awaitable the coroutine is suspended on; not finding it, it built an AttributeError first.
//! [`init_awaitable`] gives each awaitable type `throw` and `close` along with `__await__`.

use std::cell::RefCell;
use std::sync::OnceLock;

use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyModule, PyStr, PyType},
    class::{PyClassImpl, StaticType},
    function::{FuncArgs, ItemDoc, OptionalArg, PyMethodDef, PyMethodFlags},
    identifier, pyclass,
    types::{Callable, GetDescriptor, Representable},
};

/// The `__await__` attribute of microloop's awaitable types.
#[pyclass(module = false, name = "wrapper_descriptor")]
#[derive(Debug, PyPayload)]
pub(crate) struct AwaitSlot {
    /// The name of the type it was installed on, for its repr.
    owner: String,
}

#[pyclass(with(GetDescriptor, Representable))]
impl AwaitSlot {}

impl GetDescriptor for AwaitSlot {
    fn descr_get(zelf: &PyObject, obj: Option<&PyObject>, _cls: Option<&PyObject>, vm: &VirtualMachine) -> PyResult {
        Ok(match obj {
            Some(obj) if !vm.is_none(obj) => AwaitWrapper::bind(obj.to_owned(), vm).into(),
            _ => zelf.to_owned(),
        })
    }
}

impl Representable for AwaitSlot {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<slot wrapper '__await__' of '{}' objects>", zelf.owner))
    }
}

/// `x.__await__`: calling it returns `x`, which is its own iterator.
#[pyclass(module = false, name = "method-wrapper")]
#[derive(Debug, PyPayload)]
pub(crate) struct AwaitWrapper {
    /// None only while the wrapper is the idle spare (see [`AwaitWrapper::release_spare`]).
    target: RefCell<Option<PyObjectRef>>,
}

thread_local! {
    /// The wrapper the last `await` used. `await` drops its wrapper at once, so the next one
    /// can reuse it instead of allocating; a wrapper somebody kept is never reused. Its target
    /// is let go as soon as the awaitable is first iterated (`await` does that right after
    /// calling `__await__`), so objects live exactly as long as they would with a wrapper of
    /// their own.
    static SPARE: RefCell<Option<PyRef<AwaitWrapper>>> = const { RefCell::new(None) };
}

impl AwaitWrapper {
    /// `target.__await__`, on the spare wrapper when nobody else holds it.
    fn bind(target: PyObjectRef, vm: &VirtualMachine) -> PyRef<Self> {
        // What is replaced is dropped after the borrows end: dropping an object can run code.
        let (wrapper, _replaced) = SPARE.with(|cell| {
            let mut spare = cell.borrow_mut();
            match spare.as_ref() {
                Some(wrapper) if wrapper.as_object().strong_count() == 1 => {
                    let old = wrapper.target.replace(Some(target));
                    (wrapper.clone(), old)
                }
                _ => {
                    let wrapper = AwaitWrapper { target: RefCell::new(Some(target)) }.into_ref(&vm.ctx);
                    let old = spare.replace(wrapper.clone());
                    (wrapper, old.map(Into::into))
                }
            }
        });
        wrapper
    }

    /// Lets go of the spare wrapper's target unless somebody holds the wrapper. Every
    /// awaitable's `__next__` calls this first; the loop also calls it before it blocks and
    /// when a run ends, for a `__await__()` called by hand and never iterated.
    pub(crate) fn release_spare() {
        let released = SPARE.with(|cell| {
            let spare = cell.borrow();
            match spare.as_ref() {
                Some(wrapper) if wrapper.as_object().strong_count() == 1 => wrapper.target.take(),
                _ => None,
            }
        });
        drop(released);
    }

    /// Drops this thread's spare wrapper (with the interpreter it belongs to).
    pub(crate) fn forget_spare() {
        let spare = SPARE.with(|cell| cell.borrow_mut().take());
        drop(spare);
    }
}

#[pyclass(with(Callable, Representable))]
impl AwaitWrapper {}

impl Callable for AwaitWrapper {
    type Args = ();
    fn call(zelf: &Py<Self>, _args: (), vm: &VirtualMachine) -> PyResult {
        // Only the idle spare has no target, and nobody outside holds it to call it.
        zelf.target.borrow().clone().ok_or_else(|| vm.new_runtime_error("__await__ of a released object"))
    }
}

impl Representable for AwaitWrapper {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(match zelf.target.borrow().as_ref() {
            Some(target) => format!(
                "<method-wrapper '__await__' of {} object at {:#x}>",
                target.class().name(),
                target.get_id()
            ),
            None => "<method-wrapper '__await__'>".to_owned(),
        })
    }
}

/// Makes `typ.__await__` an [`AwaitSlot`] (once per thread: the VM's static types belong to
/// the thread, shared by every interpreter built on it).
/// The type's instances must be their own iterators.
pub(crate) fn install_await(typ: &Py<PyType>, vm: &VirtualMachine) {
    let _ = AwaitSlot::make_static_type();
    let _ = AwaitWrapper::make_static_type();
    let name = identifier!(vm, __await__);
    if typ.get_direct_attr(name).is_some_and(|attr| attr.downcastable::<AwaitSlot>()) {
        return;
    }
    let slot = AwaitSlot { owner: typ.name().to_string() }.into_ref(&vm.ctx);
    typ.set_attr(name, slot.into());
}

/// Creates `T`'s type (once per thread) with [`install_await`]'s `__await__`, and `throw` and
/// `close` where `T` defines none, as the iterator CPython's futures return from `__await__`
/// has them. Throwing into a coroutine suspended on the awaitable (every cancellation does) or
/// closing it makes the VM look for these on the awaitable; not finding them, it built an
/// AttributeError first, about 11,700 instructions per cancellation. The outcome is the one
/// the VM gives without them: `throw` raises what it is given, into the coroutine, and
/// `close` has nothing to let go of.
pub(crate) fn init_awaitable<T: PyClassImpl + StaticType>(vm: &VirtualMachine) {
    install_await(&T::make_static_type(), vm);
    let typ = T::static_type();
    for def in [&THROW, &CLOSE] {
        let name = vm.ctx.intern_str(def.name);
        if typ.get_direct_attr(name).is_none() {
            typ.set_attr(name, def.build_method(&vm.ctx, typ).into());
        }
    }
}

const THROW: PyMethodDef = PyMethodDef::new_const(
    "throw",
    awaitable_throw,
    PyMethodFlags::METHOD,
    ItemDoc::static_text("throw(typ[, val[, tb]]): raises the exception into the awaiting coroutine."),
);

const CLOSE: PyMethodDef =
    PyMethodDef::new_const("close", awaitable_close, PyMethodFlags::METHOD, ItemDoc::static_text("close(): nothing to release."));

/// The exception `throw(typ[, val[, tb]])` raises, made as `raise` or `coroutine.throw` makes
/// it (TypeError when `typ` is not an exception). The VM passes all three when it throws into
/// a coroutine suspended on the awaitable; the loop passes the exception alone.
pub(crate) fn thrown(typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.normalize_exception(typ, val.unwrap_or_none(vm), tb.unwrap_or_none(vm)).unwrap_or_else(|e| e)
}

fn awaitable_throw(_zelf: PyObjectRef, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult<()> {
    Err(thrown(typ, val, tb, vm))
}

fn awaitable_close(_zelf: PyObjectRef) {}

/// What a [`FastFunction`] runs: its arguments, one per parameter, in order.
pub(crate) type FastBody = fn(&[PyObjectRef], &VirtualMachine) -> PyResult;

/// A builtin function with fixed parameters, called through the vectorcall slot without
/// building a `FuncArgs`. Parameters can be passed by position or by name, as to the Python
/// functions MicroPython defines (`sleep(t)`, `sleep(t=1)`).
#[pyclass(module = false, name = "builtin_function_or_method")]
#[derive(Debug, PyPayload)]
pub(crate) struct FastFunction {
    name: &'static str,
    params: &'static [&'static str],
    /// How many of `params` must be given; the body gets a slice of that length or longer,
    /// up to `params.len()` (the rest are optional, from the end).
    required: usize,
    body: FastBody,
}

impl FastFunction {
    /// The function object, to put in a module.
    pub(crate) fn new_ref(
        name: &'static str,
        params: &'static [&'static str],
        required: usize,
        body: FastBody,
        vm: &VirtualMachine,
    ) -> PyRef<Self> {
        let typ = Self::make_static_type();
        if typ.slots.vectorcall.load().is_none() {
            typ.slots.vectorcall.store(Some(vectorcall));
        }
        FastFunction { name, params, required, body }.into_ref(&vm.ctx)
    }

    /// Runs the body with `positional`, then the `keywords` placed by name.
    fn invoke(
        &self,
        positional: &[PyObjectRef],
        keywords: &[(&str, PyObjectRef)],
        vm: &VirtualMachine,
    ) -> PyResult {
        if keywords.is_empty() && (self.required..=self.params.len()).contains(&positional.len()) {
            return (self.body)(positional, vm);
        }
        // MicroPython's message names the parameters MicroPython's function has: the required
        // ones when too few are given (`sleep(t)`; `result` is CPython's).
        let count_error = || {
            let takes = if positional.len() < self.required { self.required } else { self.params.len() };
            vm.new_type_error(format!("function takes {takes} positional arguments but {} were given", positional.len()))
        };
        if positional.len() > self.params.len() {
            return Err(count_error());
        }
        let mut bound: Vec<Option<PyObjectRef>> = positional.iter().cloned().map(Some).collect();
        bound.resize(self.params.len(), None);
        for (name, value) in keywords {
            let Some(i) = self.params.iter().position(|p| p == name) else {
                return Err(vm.new_type_error(format!("unexpected keyword argument '{name}'")));
            };
            if bound[i].replace(value.clone()).is_some() {
                return Err(vm.new_type_error(format!("function got multiple values for argument '{name}'")));
            }
        }
        // The arguments given, up to the first one missing, which must be an optional one.
        let given = bound.iter().position(Option::is_none).unwrap_or(bound.len());
        if given < self.required || bound[given..].iter().any(Option::is_some) {
            return Err(count_error());
        }
        let args: Vec<PyObjectRef> = bound.into_iter().flatten().collect();
        (self.body)(&args, vm)
    }
}

/// The vectorcall slot: `args` holds the positional arguments, then the keyword values.
fn vectorcall(
    zelf: &PyObject,
    args: Vec<PyObjectRef>,
    nargs: usize,
    kwnames: Option<&[PyObjectRef]>,
    vm: &VirtualMachine,
) -> PyResult {
    let zelf = zelf.downcast_ref::<FastFunction>().expect("the slot of FastFunction's own type");
    let nargs = nargs.min(args.len());
    let names = kwnames.unwrap_or_default();
    if names.is_empty() && (zelf.required..=zelf.params.len()).contains(&nargs) {
        return (zelf.body)(&args, vm);
    }
    let keywords = vector_keywords(names, &args[nargs..], vm)?;
    zelf.invoke(&args[..nargs], &keywords, vm)
}

/// The keyword arguments of a vectorcall: `names` paired with the values after the
/// positional ones.
pub(crate) fn vector_keywords<'a>(names: &'a [PyObjectRef], values: &[PyObjectRef], vm: &VirtualMachine) -> PyResult<Vec<(&'a str, PyObjectRef)>> {
    names
        .iter()
        .zip(values)
        .map(|(name, value)| {
            let name = name.downcast_ref::<PyStr>().and_then(|n| n.to_str()).ok_or_else(|| vm.new_type_error("keywords must be strings"))?;
            Ok((name, value.clone()))
        })
        .collect()
}

/// The keyword arguments of a `FuncArgs` call, as [`vector_keywords`] gives them.
pub(crate) fn args_keywords<'a>(args: &'a FuncArgs, vm: &VirtualMachine) -> PyResult<Vec<(&'a str, PyObjectRef)>> {
    args.kwargs
        .iter()
        .map(|(k, v)| Ok((k.as_str().map_err(|_| vm.new_type_error("keywords must be strings"))?, v.clone())))
        .collect()
}

#[pyclass(with(Callable, Representable))]
impl FastFunction {
    #[pygetset]
    fn __name__(zelf: &Py<Self>) -> &'static str {
        zelf.name
    }
}

impl Callable for FastFunction {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let keywords = args_keywords(&args, vm)?;
        zelf.invoke(&args.args, &keywords, vm)
    }
}

impl Representable for FastFunction {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<built-in function {}>", zelf.name))
    }
}

/// A type's attribute-lookup slot.
type Getattro = fn(&PyObject, &Py<PyStr>, &VirtualMachine) -> PyResult;

/// The VM's own getattro for modules, which [`module_getattro`] falls back to (the same
/// function on every thread).
static VM_MODULE_GETATTRO: OnceLock<Getattro> = OnceLock::new();

/// Makes `module.name` look in the module's dict first (once per thread: the module type
/// belongs to the thread, shared by every interpreter built on it).
///
/// The generic lookup's order is kept: a data descriptor on the type would win over the dict,
/// so the fast path is taken only for plain module objects (not subclasses, which may define
/// properties) and names that are not dunders, and only if every attribute of the module type
/// and its bases is a dunder, so no such descriptor can exist. A miss goes to the VM's getattro
/// (module `__getattr__`, the error message).
pub(crate) fn install_module_getattr(vm: &VirtualMachine) {
    let typ = vm.ctx.types.module_type;
    let Some(current) = typ.slots.getattro.load() else { return };
    if current as usize == module_getattro as Getattro as usize {
        return;
    }
    let only_dunders = typ.mro.read().iter().chain(std::iter::once(&typ.to_owned())).all(|cls| {
        cls.attributes.interned_names(&vm.ctx).iter().all(|name| name.as_bytes().starts_with(b"__"))
    });
    // Every thread's module type starts with the same function; anything else is not ours to
    // wrap.
    let vm_getattro = *VM_MODULE_GETATTRO.get_or_init(|| current);
    if !only_dunders || vm_getattro as usize != current as usize {
        return;
    }
    typ.slots.getattro.store(Some(module_getattro));
}

fn module_getattro(obj: &PyObject, name: &Py<PyStr>, vm: &VirtualMachine) -> PyResult {
    if let Some(module) = obj.downcast_ref_if_exact::<PyModule>(vm)
        && !name.as_bytes().starts_with(b"__")
    {
        if let Some(value) = module.dict().get_item_opt(name, vm)? {
            return Ok(value);
        }
        let lazy = LAZY_NAMES.with(|lazy| lazy.borrow().as_ref().filter(|l| l.module.is(obj)).map(|l| (l.names, l.load)));
        if let Some((names, load)) = lazy
            && names.iter().any(|n| name.as_bytes() == n.as_bytes())
        {
            return load(name, vm);
        }
    }
    let vm_getattro = VM_MODULE_GETATTRO.get().expect("set before the slot is replaced");
    vm_getattro(obj, name, vm)
}

/// Names a module gives on first use (see [`set_lazy_names`]).
struct LazyNames {
    module: PyObjectRef,
    names: &'static [&'static str],
    load: fn(&Py<PyStr>, &VirtualMachine) -> PyResult,
}

thread_local! {
    static LAZY_NAMES: std::cell::RefCell<Option<LazyNames>> = const { std::cell::RefCell::new(None) };
}

/// Has `module.name`, for `name` in `names` and missing from the module's dict, call `load`
/// (asyncio's CPython names, loaded on first use). Done in the module type's getattro, not by a
/// `__getattr__` in the module's dict, which would stop the VM from specializing every other
/// attribute load of the module. False when that getattro is not installed (the caller then
/// falls back to a `__getattr__`).
pub(crate) fn set_lazy_names(
    module: &PyObject,
    names: &'static [&'static str],
    load: fn(&Py<PyStr>, &VirtualMachine) -> PyResult,
    vm: &VirtualMachine,
) -> bool {
    let slot = vm.ctx.types.module_type.slots.getattro.load();
    let installed = slot.is_some_and(|f| f as usize == module_getattro as Getattro as usize);
    if installed {
        let old = LAZY_NAMES.with(|lazy| lazy.borrow_mut().replace(LazyNames { module: module.to_owned(), names, load }));
        drop(old);
    }
    installed
}

/// Forgets the lazy names (with the interpreter they belong to).
pub(crate) fn forget_lazy_names() {
    let old = LAZY_NAMES.with(|lazy| lazy.borrow_mut().take());
    drop(old);
}
