//! The `microloop` Python module: what a script running inside a host uses to meet it.

/// The `microloop` module.
#[rustpython_vm::pymodule(name = "microloop")]
pub(crate) mod microloop_mod {
    use rustpython_vm::{PyRef, VirtualMachine, builtins::PyStrRef};

    use super::super::source::HostSource;
    use crate::asyncio::core::sched;
    use crate::asyncio::event::PyThreadSafeFlag;

    /// The ThreadSafeFlag named `name`, which the host sets with `Handle::set_flag`. The same
    /// name gives the same flag.
    #[pyfunction]
    fn flag(name: PyStrRef, vm: &VirtualMachine) -> PyRef<PyThreadSafeFlag> {
        PyThreadSafeFlag::ensure_types(vm);
        let s = sched();
        HostSource::of(&s).named_flag(&name.to_string_lossy(), vm)
    }
}
