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
//! - MicroPython's OSError, which has no subclasses: `OSError(110, 'ETIMEDOUT')` and the
//!   errors the system raises are shown as OSError although their type is CPython's subclass
//!   for the errno (`TimeoutError`, `FileNotFoundError`: `except TimeoutError` still catches
//!   them); `str()` of an OSError is MicroPython's `[Errno 110] ETIMEDOUT` (see [`os_error_str`]).
//! - `bytes.format`, as `str.format` on the bytes' text, giving bytes.
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
    install_os_error_str(vm);
    install_bytes_format(vm);
    ignore_syntax_warnings(vm);
    // The message of a failed import, as MicroPython words it (the VM's importlib builds it
    // from this prefix; its native paths say the same, vendor/README.md).
    vm.import("_frozen_importlib", 0)?.set_attr("_ERR_MSG_PREFIX", vm.ctx.new_str("no module named "), vm)?;
    install_silent_coroutine_del(vm);
    // Sockets as streams, select.poll over ioctl objects (see asyncio/mpstreams.rs).
    crate::asyncio::mpstreams::install(vm)?;
    Ok(())
}

/// MicroPython prints no warnings. The compiler's SyntaxWarnings (an invalid escape such as
/// `"\]"` in a library's pattern, `return` in `finally`) would reach stderr at every import of
/// such a module: a filter at the head of the VM's list (the one `warnings.filters` starts
/// from) ignores them. Other warnings keep CPython's defaults.
fn ignore_syntax_warnings(vm: &VirtualMachine) {
    let ctx = &vm.ctx;
    let filter = ctx.new_tuple(vec![
        ctx.new_str("ignore").into(),
        ctx.none(),
        ctx.exceptions.syntax_warning.as_object().to_owned(),
        ctx.none(),
        ctx.new_int(0).into(),
    ]);
    vm.state.warnings.filters.to_owned().borrow_vec_mut().insert(0, filter.into());
    vm.state.warnings.filters_mutated();
}

/// The errno values MicroPython's unix port names in messages (its `errno.errorcode`); others
/// show as numbers.
const MP_ERRNO_NAMES: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (5, "EIO"),
    (9, "EBADF"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (17, "EEXIST"),
    (19, "ENODEV"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (95, "EOPNOTSUPP"),
    (98, "EADDRINUSE"),
    (103, "ECONNABORTED"),
    (104, "ECONNRESET"),
    (105, "ENOBUFS"),
    (107, "ENOTCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
];

/// `ETIMEDOUT` for 110, as MicroPython names it in a message.
fn mp_errno_name(n: i32) -> Option<&'static str> {
    MP_ERRNO_NAMES.iter().find(|(code, _)| *code == n).map(|(_, name)| *name)
}

/// The type name MicroPython shows for `exc`: `OSError` for an OSError whose subclass was
/// picked from its errno (by `OSError(errno, ...)` or a system call), the class's name
/// otherwise.
/// The errors the VM raises under CPython's names that MicroPython does not have
/// (`UnboundLocalError`, `ModuleNotFoundError`) show as their MicroPython base class too.
pub(crate) fn display_name(exc: &PyObject, vm: &VirtualMachine) -> String {
    use rustpython_vm::exceptions::{os_error_origin, types_origin};
    let class = exc.class();
    let excs = &vm.ctx.exceptions;
    match os_error_origin(exc) {
        Some(o) if o != types_origin::CONSTRUCTED => "OSError".to_owned(),
        _ if class.is(excs.unbound_local_error) => "NameError".to_owned(),
        _ if class.is(excs.module_not_found_error) => "ImportError".to_owned(),
        _ => class.name().to_string(),
    }
}

/// `str(e)` as MicroPython gives it for an OSError, or None where the VM's (CPython's) stands:
/// a subclass MicroPython does not have (`FileNotFoundError(...)`) called by name. An OSError whose first of one or two arguments is an
/// errno MicroPython names reads `[Errno 110] ETIMEDOUT`, then `: ` and the second argument;
/// otherwise one argument is its str and several the tuple. A system error is MicroPython's
/// `OSError(errno)`: `[Errno 2] ENOENT` (the number alone for an errno MicroPython does not
/// name).
pub(crate) fn os_error_str(exc: &PyObject, vm: &VirtualMachine) -> Option<PyResult<String>> {
    use rustpython_vm::exceptions::{os_error_origin, types_origin};
    let origin = os_error_origin(exc)?;
    let base = exc.downcast_ref::<PyBaseException>()?;
    let args = base.args();
    let errno = |obj: &PyObjectRef| obj.downcast_ref::<rustpython_vm::builtins::PyInt>().and_then(|n| n.try_to_primitive::<i32>(vm).ok());
    if origin == types_origin::SYSTEM {
        let n = args.first().and_then(errno)?;
        return Some(Ok(match mp_errno_name(n) {
            Some(name) => format!("[Errno {n}] {name}"),
            None => n.to_string(),
        }));
    }
    // The subclasses CPython has and MicroPython lacks keep CPython's str when the script
    // names them; a subclass written in Python reads as MicroPython's does.
    let class = exc.class();
    if origin == types_origin::CONSTRUCTED
        && !class.is(vm.ctx.exceptions.os_error)
        && !class.slots.flags.has_feature(rustpython_vm::types::PyTypeFlags::HEAPTYPE)
    {
        return None;
    }
    let args = args.as_slice();
    let named = match args {
        [n] | [n, _] => errno(n).and_then(|n| mp_errno_name(n).map(|name| (n, name))),
        _ => None,
    };
    Some((|| {
        Ok(match (named, args) {
            (Some((n, name)), [_]) => format!("[Errno {n}] {name}"),
            (Some((n, name)), [_, detail]) => format!("[Errno {n}] {name}: {}", detail.str(vm)?),
            (_, []) => String::new(),
            (_, [arg]) => arg.str(vm)?.to_string(),
            _ => vm.new_tuple(args.to_vec()).as_object().repr(vm)?.to_string(),
        })
    })())
}

/// The VM's str slot of OSError, for the instances whose str stays CPython's (the same
/// function on every thread).
static VM_OS_ERROR_STR: OnceLock<ReprFn> = OnceLock::new();

/// Gives OSError and the subclasses that inherit its str MicroPython's ([`os_error_str`]).
fn install_os_error_str(vm: &VirtualMachine) {
    let base = vm.ctx.exceptions.os_error;
    if let Some(inherited) = base.slots.str.load()
        && *VM_OS_ERROR_STR.get_or_init(|| inherited) as usize != inherited as usize
    {
        return;
    }
    if replace_slot(base, Slot::Str, os_error_str_slot).is_some() {
        base.set_attr(identifier!(vm, __str__), OS_ERROR_STR.build_method(&vm.ctx, base).into());
    }
}

const OS_ERROR_STR: PyMethodDef = PyMethodDef::new_const(
    "__str__",
    |zelf: PyObjectRef, vm: &VirtualMachine| os_error_str_slot(&zelf, vm),
    PyMethodFlags::METHOD,
    ItemDoc::static_text("Return str(self)."),
);

fn os_error_str_slot(zelf: &PyObject, vm: &VirtualMachine) -> PyResult<PyRef<PyStr>> {
    match os_error_str(zelf, vm) {
        Some(text) => Ok(vm.ctx.new_str(text?)),
        None => match VM_OS_ERROR_STR.get() {
            Some(vm_str) => vm_str(zelf, vm),
            None => zelf.str(vm),
        },
    }
}

/// Adds `bytes.format`: MicroPython formats bytes as `str.format` formats their text (UTF-8),
/// and gives bytes.
fn install_bytes_format(vm: &VirtualMachine) {
    const FORMAT: PyMethodDef = PyMethodDef::new_const(
        "format",
        |zelf: PyObjectRef, args: rustpython_vm::function::FuncArgs, vm: &VirtualMachine| -> PyResult {
            if zelf.downcast_ref::<rustpython_vm::builtins::PyBytes>().is_none() {
                return Err(vm.new_type_error("descriptor 'format' requires a 'bytes' object"));
            }
            // Bytes that are not UTF-8 come through unchanged (as surrogates and back).
            let codec = (vm.ctx.new_str("utf-8"), vm.ctx.new_str("surrogateescape"));
            let text = vm.call_method(&zelf, "decode", codec.clone())?;
            let formatted = vm.call_method(&text, "format", args)?;
            vm.call_method(&formatted, "encode", codec)
        },
        PyMethodFlags::METHOD,
        ItemDoc::static_text("Format the bytes' text as str.format does; return bytes."),
    );
    let bytes = vm.ctx.types.bytes_type;
    if bytes.get_attr(vm.ctx.intern_str("format")).is_none() {
        bytes.set_attr(vm.ctx.intern_str("format"), FORMAT.build_method(&vm.ctx, bytes).into());
    }
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
    if replace_slot(base, Slot::Repr, exception_repr).is_some() {
        base.set_attr(identifier!(vm, __repr__), REPR.build_method(&vm.ctx, base).into());
    }
}

/// Which of a type's slots [`replace_slot`] replaces.
#[derive(Clone, Copy)]
enum Slot {
    Repr,
    Str,
}

/// A type's repr or str slot.
type ReprFn = fn(&PyObject, &VirtualMachine) -> PyResult<PyRef<PyStr>>;

/// Puts `ours` in the `slot` of `base` and of every subclass that inherits `base`'s function
/// there. Returns the function replaced, or None when `ours` is there already (or nothing
/// is).
fn replace_slot(base: &'static Py<PyType>, slot: Slot, ours: ReprFn) -> Option<ReprFn> {
    let load = |typ: &PyType| match slot {
        Slot::Repr => typ.slots.repr.load(),
        Slot::Str => typ.slots.str.load(),
    };
    let inherited = load(base)?;
    if inherited as usize == ours as usize {
        return None;
    }
    let mut pending = vec![base.to_owned()];
    while let Some(typ) = pending.pop() {
        if load(&typ).is_some_and(|f| f as usize == inherited as usize) {
            match slot {
                Slot::Repr => typ.slots.repr.store(Some(ours)),
                Slot::Str => typ.slots.str.store(Some(ours)),
            }
            typ.modified();
        }
        pending.extend(typ.subclasses.read().iter().filter_map(|weak| weak.upgrade()?.downcast::<PyType>().ok()));
    }
    Some(inherited)
}

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
    Ok(vm.ctx.new_str(format!("{}{}", display_name(zelf, vm), args)))
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
