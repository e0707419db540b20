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
//! Each is wider than MicroPython (`const(1)` works in any expression, `micropython` is a name
//! at run time), never narrower.

use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseException, PyStr, PyType},
    class::PyClassImpl,
    function::{PyMethodDef, PyMethodFlags},
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
    ExceptionValue::make_static_type();
    base.set_attr(value, ExceptionValue.into_ref(&vm.ctx).into());
    install_exception_repr(base, vm);
    Ok(())
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
    Some("Return repr(self)."),
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
    fn descr_get(zelf: PyObjectRef, obj: Option<PyObjectRef>, _cls: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult {
        let Some(obj) = obj.filter(|o| !vm.is_none(o)) else { return Ok(zelf) };
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
