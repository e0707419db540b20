//! What MicroPython gives every script without an import, on top of the VM's builtins:
//!
//! - `const`: MicroPython's compiler takes `X = const(1)` without `from micropython import
//!   const`. Here `const` is a builtin, the function `micropython.const`.
//! - `micropython`: the compiler also takes `@micropython.native`, `@micropython.viper` and
//!   `@micropython.bytecode` without `import micropython`. Here the module is a builtin name.
//! - `value` on every exception: MicroPython's alias of `args[0]` (None without arguments),
//!   which CPython has on StopIteration only. It is a non-data descriptor on BaseException, so
//!   an exception class or instance that sets its own `value` keeps it.
//! - MicroPython's repr of exceptions: the class name, then the repr of `args`. It differs from
//!   CPython's with one argument only: `ValueError(2,)`, not `ValueError(2)`.
//!
//! - No "coroutine ... was never awaited" RuntimeWarning: MicroPython drops an unstarted
//!   coroutine silently, and so does microloop. (The VM's warning would also import CPython's
//!   `warnings` module in the middle of a run, a pause of some 35 ms the first time.) A
//!   coroutine that started and was left suspended is closed as before.
//!
//! Each is wider than MicroPython (`const(1)` works in any expression, `micropython` is a name
//! at run time), never narrower.

use std::sync::OnceLock;

use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseException, PyCoroutine, PyStr, PyType},
    class::PyClassImpl,
    function::{ItemDoc, PyMethodDef, PyMethodFlags},
    identifier, pyclass,
    types::{GetDescriptor, Representable},
};

/// Installs the builtins `const` and `micropython`, and the exceptions' `value` attribute and
/// repr. Exception types are the VM's static types, shared by every runtime in the process:
/// installing twice changes nothing.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    // Made straight from its definition: through importlib it costs about 1% of start-up.
    let micropython = rustpython_vm::import::import_builtin(vm, "micropython")?;
    let builtins = vm.builtins.as_object();
    builtins.set_attr("const", micropython.get_attr("const", vm)?, vm)?;
    builtins.set_attr("micropython", micropython, vm)?;
    let value = vm.ctx.intern_str("value");
    let base = vm.ctx.exceptions.base_exception_type;
    let _ = ExceptionValue::make_static_type();
    base.set_attr(value, ExceptionValue.into_ref(&vm.ctx).into());
    install_exception_repr(base, vm);
    install_silent_coroutine_del(vm);
    Ok(())
}

/// A type's finaliser slot.
type DelFn = fn(&PyObject, &VirtualMachine) -> PyResult<()>;

/// The VM's finaliser for coroutines, which [`coroutine_del`] hands every started coroutine
/// to (the same function on every thread).
static VM_COROUTINE_DEL: OnceLock<DelFn> = OnceLock::new();

/// Replaces the coroutine type's finaliser with [`coroutine_del`] (once per thread: the type
/// belongs to the thread, shared by every interpreter built on it).
fn install_silent_coroutine_del(vm: &VirtualMachine) {
    let typ = vm.ctx.types.coroutine_type;
    let ours: DelFn = coroutine_del;
    let Some(current) = typ.slots.del.load() else { return };
    if current as usize == ours as usize {
        return;
    }
    // Every thread's coroutine type starts with the same function; anything else is not ours
    // to wrap.
    if *VM_COROUTINE_DEL.get_or_init(|| current) as usize != current as usize {
        return;
    }
    typ.slots.del.store(Some(ours));
}

/// Closes a coroutine that never ran without a word, as MicroPython does; any other goes to
/// the VM's finaliser (which throws GeneratorExit into a suspended one).
fn coroutine_del(zelf: &PyObject, vm: &VirtualMachine) -> PyResult<()> {
    if let Some(coro) = zelf.downcast_ref::<PyCoroutine>() {
        let inner = coro.as_coro();
        if !inner.closed() && !inner.running() && inner.frame_opt().is_none_or(|f| f.lasti() == 0) {
            // Closing an unstarted coroutine only marks it finished: nothing runs.
            inner.close(zelf, vm)?;
        }
    }
    let vm_del = VM_COROUTINE_DEL.get().expect("set before the slot is replaced");
    vm_del(zelf, vm)
}

/// Gives `base` and every subclass that inherits its repr MicroPython's. Subclasses made later
/// inherit it from their bases' slots; `BaseException.__repr__` (what `super().__repr__()`
/// finds) is replaced too.
fn install_exception_repr(base: &'static Py<PyType>, vm: &VirtualMachine) {
    let ours: ReprFn = exception_repr;
    let Some(inherited) = base.slots.repr.load() else { return };
    if inherited as usize == ours as usize {
        return;
    }
    let mut pending = vec![base.to_owned()];
    while let Some(typ) = pending.pop() {
        if typ.slots.repr.load().is_some_and(|f| f as usize == inherited as usize) {
            typ.slots.repr.store(Some(ours));
            typ.modified();
        }
        pending.extend(typ.subclasses.read().iter().filter_map(|weak| weak.upgrade()?.downcast::<PyType>().ok()));
    }
    base.set_attr(identifier!(vm, __repr__), REPR.build_method(&vm.ctx, base).into());
}

/// A type's repr slot.
type ReprFn = fn(&PyObject, &VirtualMachine) -> PyResult<PyRef<PyStr>>;

const REPR: PyMethodDef = PyMethodDef::new_const(
    "__repr__",
    |zelf: PyObjectRef, vm: &VirtualMachine| exception_repr(&zelf, vm),
    PyMethodFlags::METHOD,
    ItemDoc::static_text("Return repr(self)."),
);

/// `ValueError(2,)`: the class name and the repr of the arguments' tuple.
fn exception_repr(zelf: &PyObject, vm: &VirtualMachine) -> PyResult<PyRef<PyStr>> {
    let exc = zelf
        .downcast_ref::<PyBaseException>()
        .ok_or_else(|| vm.new_type_error("descriptor '__repr__' requires a 'BaseException' object"))?;
    let args = exc.args().as_object().repr(vm)?;
    Ok(vm.ctx.new_str(format!("{}{}", zelf.class().name(), args)))
}

/// `BaseException.value`: the exception's first argument, or None.
#[pyclass(module = false, name = "member_descriptor")]
#[derive(Debug, PyPayload)]
struct ExceptionValue;

#[pyclass(with(GetDescriptor, Representable))]
impl ExceptionValue {}

impl GetDescriptor for ExceptionValue {
    fn descr_get(zelf: &PyObject, obj: Option<&PyObject>, _cls: Option<&PyObject>, vm: &VirtualMachine) -> PyResult {
        let Some(obj) = obj.filter(|o| !vm.is_none(o)) else { return Ok(zelf.to_owned()) };
        let exc = obj
            .downcast_ref::<PyBaseException>()
            .ok_or_else(|| vm.new_type_error("descriptor 'value' for 'BaseException' objects doesn't apply"))?;
        Ok(exc.args().first().cloned().unwrap_or_else(|| vm.ctx.none()))
    }
}

impl Representable for ExceptionValue {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("<member 'value' of 'BaseException' objects>".to_owned())
    }
}
