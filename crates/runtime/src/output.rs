//! Where a script's `sys.stdout` and `sys.stderr` go when the host says: a `Write` of its own
//! or a callback. The native writer object replaces the `sys` attribute, so `print`, tracebacks
//! and `sys.stdout.write` all reach it.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;

use rustpython_vm::{
    Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBytes, PyByteArray, PyStr},
    class::PyClassImpl,
    pyclass,
};

/// A destination for one of the script's output streams.
pub(crate) enum Sink {
    /// Bytes go to the host's writer.
    Writer(Box<dyn Write>),
    /// Text goes to the host's callback, one call per `write`.
    Callback(Box<dyn FnMut(&str)>),
}

/// The object put in `sys.stdout` or `sys.stderr`.
#[pyclass(module = "microloop", name = "HostWriter")]
#[derive(PyPayload)]
pub(crate) struct PyHostWriter {
    /// None once the runtime has released it.
    sink: RefCell<Option<Sink>>,
}

impl fmt::Debug for PyHostWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<HostWriter>")
    }
}

impl PyHostWriter {
    pub(crate) fn new_ref(sink: Sink, vm: &VirtualMachine) -> PyRef<Self> {
        let _ = Self::make_static_type();
        PyHostWriter { sink: RefCell::new(Some(sink)) }.into_ref(&vm.ctx)
    }
}

#[pyclass]
impl PyHostWriter {
    /// Writes a str (or, as `sys.stdout.buffer` does, bytes) and returns how much it took.
    #[pymethod]
    fn write(zelf: &Py<Self>, data: PyObjectRef, vm: &VirtualMachine) -> PyResult<usize> {
        let mut sink = zelf.sink.try_borrow_mut().map_err(|_| vm.new_runtime_error("output written to from inside its own callback"))?;
        let Some(sink) = sink.as_mut() else { return Err(closed(vm)) };
        let io = |r: std::io::Result<()>| r.map_err(|e| vm.new_os_error(e.to_string()));
        if let Some(s) = data.downcast_ref::<PyStr>() {
            let text = s.to_string_lossy();
            match sink {
                Sink::Writer(w) => io(w.write_all(text.as_bytes()))?,
                Sink::Callback(f) => f(&text),
            }
            return Ok(s.char_len());
        }
        let bytes: Vec<u8> = if let Some(b) = data.downcast_ref::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Some(b) = data.downcast_ref::<PyByteArray>() {
            b.borrow_buf().to_vec()
        } else {
            return Err(vm.new_type_error(format!("object with buffer protocol required, not '{}'", data.class().name())));
        };
        match sink {
            Sink::Writer(w) => io(w.write_all(&bytes))?,
            Sink::Callback(f) => f(&String::from_utf8_lossy(&bytes)),
        }
        Ok(bytes.len())
    }

    /// Flushes the host's writer.
    #[pymethod]
    fn flush(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        let mut sink = zelf.sink.try_borrow_mut().map_err(|_| vm.new_runtime_error("output flushed from inside its own callback"))?;
        if let Some(Sink::Writer(w)) = &mut *sink {
            w.flush().map_err(|e| vm.new_os_error(e.to_string()))?;
        }
        Ok(())
    }

    /// The same object: it takes bytes as well as str.
    #[pygetset]
    fn buffer(zelf: PyRef<Self>) -> PyRef<Self> {
        zelf
    }

    /// Never a terminal.
    #[pymethod]
    fn isatty(_zelf: &Py<Self>) -> bool {
        false
    }
}

/// What writing to a released writer raises.
fn closed(vm: &VirtualMachine) -> rustpython_vm::builtins::PyBaseExceptionRef {
    vm.new_value_error("I/O operation on closed file")
}

/// Drops the host's writers in `sys.stdout` and `sys.stderr` (the runtime is ending).
pub(crate) fn release(vm: &VirtualMachine) {
    for name in ["stdout", "stderr"] {
        if let Ok(out) = vm.sys_module.get_attr(name, vm)
            && let Some(w) = out.downcast_ref::<PyHostWriter>()
            && let Ok(mut sink) = w.sink.try_borrow_mut()
        {
            if let Some(Sink::Writer(mut w)) = sink.take() {
                // Nobody is left to tell of a failure; the runs flushed already.
                let _ = w.flush();
            }
        }
    }
}

/// Installs `sink` as `sys.<name>` (`stdout` or `stderr`).
pub(crate) fn install(vm: &VirtualMachine, name: &'static str, sink: Sink) -> PyResult<()> {
    vm.sys_module.set_attr(name, PyHostWriter::new_ref(sink, vm), vm)
}
