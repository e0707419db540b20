//! Tracebacks in MicroPython's format: `File "x.py", line N, in f` per frame, no source lines.

use std::fmt::Write as _;

use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine, builtins::PyBaseExceptionRef,
};

/// Formats `exc` with its traceback the way MicroPython's `sys.print_exception` does; an
/// exception that was never raised has no traceback and prints as its last line only.
pub fn format_exception(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let mut out = String::new();
    if let Some(tb) = exc.__traceback__() {
        out.push_str("Traceback (most recent call last):\n");
        for entry in tb.iter() {
            let code = entry.frame.f_code();
            // The import system's own frames, which MicroPython (and CPython) leave out.
            if code.source_path().as_str().starts_with("<frozen importlib.") {
                continue;
            }
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
            if out.is_empty() {
                out.push_str("Traceback (most recent call last):\n");
            }
            let _ = writeln!(out, "  File \"{file}\", line {line}");
        }
    }
    let _ = writeln!(out, "{}", exception_line(vm, exc));
    out
}

/// The last line of a traceback as MicroPython prints it: `TypeName: ` then nothing for no
/// arguments, the argument's str for one, the tuple for several; `[Errno N] ENAME` for an
/// OSError carrying an errno (alone, or with its strerror as system errors do).
pub fn exception_line(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let class = exc.class();
    let name = crate::compat::display_name(exc.as_object(), vm);
    if let Some(Ok(detail)) = crate::compat::os_error_str(exc.as_object(), vm) {
        return format!("{name}: {detail}");
    }
    if class.fast_issubclass(vm.ctx.exceptions.syntax_error) {
        let msg = exc.as_object().get_attr("msg", vm).and_then(|m| m.str(vm));
        return format!("{name}: {}", msg.map(|m| m.to_string()).unwrap_or_default());
    }
    let args = exc.args();
    // An OSError carrying an errno, alone or with its strerror as system errors give it
    // (`(errno, strerror, None, ...)`): MicroPython shows the errno and its name.
    let errno = match args.as_slice() {
        [n] => n.try_to_value::<i32>(vm).ok(),
        [n, _, rest @ ..] if rest.iter().all(|a| vm.is_none(a)) => n.try_to_value::<i32>(vm).ok().filter(|n| *n > 0),
        _ => None,
    }
    .filter(|_| class.fast_issubclass(vm.ctx.exceptions.os_error));
    let detail = match (errno, args.as_slice()) {
        (Some(n), _) => format!("[Errno {n}] {}", errno_name(vm, n)),
        (None, []) => String::new(),
        (None, [arg]) => arg.str(vm).map(|s| s.to_string()).unwrap_or_default(),
        (None, _) => args.as_object().repr(vm).map(|s| s.to_string()).unwrap_or_default(),
    };
    format!("{name}: {detail}")
}

/// `ENOENT` for 2: the symbolic name from the errno module, or the number.
fn errno_name(vm: &VirtualMachine, n: i32) -> String {
    vm.import("errno", 0)
        .and_then(|m| m.get_attr("errorcode", vm))
        .and_then(|codes| codes.get_item(vm.ctx.new_int(n).as_object(), vm))
        .and_then(|name| name.str(vm))
        .map(|s| s.to_string())
        .unwrap_or_else(|_| n.to_string())
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
