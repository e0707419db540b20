//! MicroPython's stream protocol on the VM's standard modules, added when they are first
//! imported:
//!
//! - `_socket.socket` (and so CPython's `socket.socket`, its subclass) gains `read`,
//!   `readinto`, `readline` and `write`, MicroPython's socket methods (python-lib's
//!   `_microloop_socket`).
//! - `select.poll` becomes python-lib's `_microloop_select.poll`, which polls objects without a
//!   descriptor through their `ioctl(3, events)` besides descriptors, as MicroPython's does.
//! - `ThreadSafeFlag` answers `ioctl(3, events)` as MicroPython's does (from the first import of
//!   `select`), so it can be registered with `select.poll`.
//!
//! The patches are made by an import hook at the head of `sys.meta_path` that only watches:
//! when `_socket` or `select` is imported, it imports the module itself (the VM's builtin
//! importer then finds it in `sys.modules`), patches it and steps aside. So a program that
//! never imports them pays nothing for them at start-up (importing both costs about 4% of a
//! bare start), and each import pays one native call.

use rustpython_vm::{
    PyObjectRef, PyPayload, PyResult, VirtualMachine,
    builtins::{PyStr, PyType},
    class::PyClassImpl,
    function::OptionalArg,
    pyclass,
};

use super::event::PyThreadSafeFlag;

/// The methods python-lib's `_microloop_socket` gives sockets.
const SOCKET_METHODS: [&str; 4] = ["read", "readinto", "readline", "write"];

/// The import hook: watches for `_socket` and `select`.
#[pyclass(module = "microloop", name = "StreamPatcher")]
#[derive(Debug, PyPayload)]
struct PyStreamPatcher {}

#[pyclass]
impl PyStreamPatcher {
    /// Never finds a module: patches `_socket` or `select` on their first import, then lets
    /// the next finder find the module in `sys.modules`.
    #[pymethod]
    fn find_spec(_zelf: PyObjectRef, name: PyObjectRef, _path: OptionalArg, _target: OptionalArg, vm: &VirtualMachine) -> PyResult<()> {
        if let Some(name) = name.downcast_ref::<PyStr>() {
            match name.as_bytes() {
                b"_socket" => import_patched("_socket", patch_socket, vm)?,
                b"select" => import_patched("select", patch_select, vm)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether `module` is in `sys.modules` already.
fn imported(module: &str, vm: &VirtualMachine) -> PyResult<bool> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    Ok(modules.get_item(module, vm).is_ok())
}

/// Imports the builtin `module` and patches it, unless it is imported (and patched) already.
fn import_patched(module: &str, patch: fn(&PyObjectRef, &VirtualMachine) -> PyResult<()>, vm: &VirtualMachine) -> PyResult<()> {
    if imported(module, vm)? {
        return Ok(());
    }
    let module = rustpython_vm::import::import_builtin(vm, module)?;
    patch(&module, vm)
}

fn patch_socket(module: &PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
    let typ = module.get_attr("socket", vm)?;
    let Some(typ) = typ.downcast_ref::<PyType>() else { return Ok(()) };
    let methods = vm.import("_microloop_socket", 0)?;
    for name in SOCKET_METHODS {
        typ.set_attr(vm.ctx.intern_str(name), methods.get_attr(name, vm)?);
    }
    Ok(())
}

fn patch_select(module: &PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
    let ours = vm.import("_microloop_select", 0)?;
    if !vm.is_none(&*ours.get_attr("_native", vm)?) {
        return Ok(());
    }
    ours.set_attr("_native", module.get_attr("poll", vm)?, vm)?;
    // ThreadSafeFlag's ioctl, written in Python over the flag's state.
    let is_set = vm.new_function("flag_is_set", |flag: PyObjectRef| {
        flag.downcast_ref::<PyThreadSafeFlag>().is_some_and(|f| f.is_set())
    });
    ours.set_attr("_flag_is_set", is_set, vm)?;
    PyThreadSafeFlag::make_static_type().set_attr(vm.ctx.intern_str("ioctl"), ours.get_attr("_flag_ioctl", vm)?);
    module.set_attr("poll", ours.get_attr("poll", vm)?, vm)
}

/// Puts the import hook first on `sys.meta_path`. Modules imported already are patched now.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    let meta_path = vm.sys_module.get_attr("meta_path", vm)?;
    let _ = PyStreamPatcher::make_static_type();
    let hook: PyObjectRef = PyStreamPatcher {}.into_ref(&vm.ctx).into();
    vm.call_method(&meta_path, "insert", (0, hook))?;
    // Imported before the hook (by something at start-up): patched now.
    let modules = vm.sys_module.get_attr("modules", vm)?;
    if let Ok(module) = modules.get_item("_socket", vm) {
        patch_socket(&module, vm)?;
    }
    if let Ok(module) = modules.get_item("select", vm) {
        patch_select(&module, vm)?;
    }
    Ok(())
}
