//! Tracebacks in MicroPython's format: `File "x.py", line N, in f` per frame, no source lines.

use std::fmt::Write as _;

use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine, builtins::PyBaseExceptionRef,
};

/// Formats `exc` with its traceback the way MicroPython's `sys.print_exception` does.
pub fn format_exception(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let mut out = String::from("Traceback (most recent call last):\n");
    if let Some(tb) = exc.__traceback__() {
        for entry in tb.iter() {
            let code = &entry.frame.code;
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                code.source_path(),
                entry.lineno,
                code.obj_name
            );
        }
    }
    let class = exc.class();
    if class.fast_issubclass(vm.ctx.exceptions.syntax_error) {
        let attr = |name: &'static str| {
            exc.as_object()
                .get_attr(name, vm)
                .ok()
                .filter(|v| !vm.is_none(v))
                .and_then(|v| v.str(vm).ok())
                .map(|s| s.to_string())
        };
        if let (Some(file), Some(line)) = (attr("filename"), attr("lineno")) {
            let _ = writeln!(out, "  File \"{file}\", line {line}");
        }
    }
    let _ = writeln!(out, "{}", exception_line(vm, exc));
    out
}

/// `TypeName: message`, or `TypeName` when the exception has no arguments.
pub fn exception_line(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let name = exc.class().name().to_string();
    let message = if exc.class().fast_issubclass(vm.ctx.exceptions.syntax_error) {
        exc.as_object().get_attr("msg", vm).and_then(|m| m.str(vm)).map(|s| s.to_string())
    } else {
        exc.as_object().str(vm).map(|s| s.to_string())
    };
    match message {
        Ok(m) if !m.is_empty() => format!("{name}: {m}"),
        _ => name,
    }
}

/// Writes `text` to `sys.stderr` (falling back to the process's stderr).
pub fn write_stderr(vm: &VirtualMachine, text: &str) {
    if write_to(vm, &vm.sys_module.get_attr("stderr", vm).unwrap_or_else(|_| vm.ctx.none()), text).is_err() {
        eprint!("{text}");
    }
}

/// Writes `text` to a Python file object.
pub fn write_to(vm: &VirtualMachine, file: &PyObjectRef, text: &str) -> PyResult<()> {
    vm.call_method(file, "write", (vm.ctx.new_str(text),))?;
    Ok(())
}

/// Prints `exc` in MicroPython's format to `file`, or to stderr.
pub fn print_exception(vm: &VirtualMachine, exc: &PyBaseExceptionRef, file: Option<&PyObjectRef>) {
    let text = format_exception(vm, exc);
    match file {
        Some(f) => {
            if write_to(vm, f, &text).is_err() {
                eprint!("{text}");
            }
        }
        None => write_stderr(vm, &text),
    }
}
