//! microloop's RustPython glue: the native `asyncio` module, MicroPython's companion modules,
//! and a [`Runtime`] that runs scripts with them.
//!
//! ```no_run
//! let rt = microloop_runtime::Runtime::builder().argv(["blink.py"]).build().unwrap();
//! let code = rt.run_file("blink.py");
//! std::process::exit(code);
//! ```

pub mod asyncio;
mod mpmods;
mod pinmods;
mod tlsmod;
pub mod traceback;
mod value;

use std::sync::Arc;

use microloop_core::pins::{PinBackend, PinObserver, Pins, SimBackend, Stimulus, Trace};
use rustpython_vm::{
    AsObject, Interpreter, PyResult, Settings, VirtualMachine, builtins::PyBaseExceptionRef,
    compiler::Mode, py_freeze, scope::Scope,
};

pub use microloop_core::pins;
pub use microloop_core::{Clock, ManualClock, SystemClock};
pub use rustpython_vm;
pub use value::Value;

/// What a run ended with, as a process exit status: 0, 1 for an uncaught exception (its
/// traceback already printed on stderr), or SystemExit's code.
pub type ExitCode = i32;

/// Configures a [`Runtime`].
pub struct RuntimeBuilder {
    /// `sys.argv`.
    argv: Vec<String>,
    /// Entries put on `sys.path`, in order.
    paths: Vec<String>,
    /// `-X` options, kept in `sys._xoptions`.
    xoptions: Vec<(String, Option<String>)>,
    /// The loop's clock.
    clock: Arc<dyn Clock>,
    /// Where `machine.Pin` and `pyb.LED` lead; a simulated board if not set.
    pin_backend: Option<Box<dyn PinBackend>>,
    /// Told of every pin change.
    pin_observers: Vec<Box<dyn PinObserver>>,
    /// Whether [`Runtime::finish_pins`] gets every change or only the present levels.
    record_pins: bool,
}

impl RuntimeBuilder {
    /// Sets `sys.argv`.
    pub fn argv<I: IntoIterator<Item = S>, S: Into<String>>(mut self, argv: I) -> Self {
        self.argv = argv.into_iter().map(Into::into).collect();
        self
    }

    /// Appends a directory to `sys.path`.
    pub fn path(mut self, dir: impl Into<String>) -> Self {
        self.paths.push(dir.into());
        self
    }

    /// Records a `-X key[=value]` option.
    pub fn xoption(mut self, key: impl Into<String>, value: Option<String>) -> Self {
        self.xoptions.push((key.into(), value));
        self
    }

    /// Uses `clock` for the loop and `time.ticks_*` (a manual clock gives virtual time).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Puts the script's pins on `backend` instead of the simulated board.
    pub fn pin_backend(mut self, backend: Box<dyn PinBackend>) -> Self {
        self.pin_backend = Some(backend);
        self
    }

    /// Tells `observer` of every pin change as it happens.
    pub fn pin_observer(mut self, observer: Box<dyn PinObserver>) -> Self {
        self.pin_observers.push(observer);
        self
    }

    /// Keeps every pin change for [`Runtime::finish_pins`] (for a VCD or SVG). Off by default,
    /// so a long-running script does not accumulate its pin history in memory.
    pub fn record_pins(mut self, record: bool) -> Self {
        self.record_pins = record;
        self
    }

    /// Builds the interpreter with the native modules and the frozen standard library.
    pub fn build(self) -> std::io::Result<Runtime> {
        let mut settings = Settings::default();
        settings.argv = self.argv;
        settings.path_list = self.paths;
        settings.xoptions = self.xoptions;
        // Every print reaches a pipe at once, as on MicroPython's unix port.
        settings.buffered_stdio = false;
        settings.import_site = false;
        settings.write_bytecode = false;
        settings.ignore_environment = true;
        settings.user_site_directory = false;
        let builder = Interpreter::builder(settings);
        let stdlib = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
        let asyncio = asyncio::module_def(&builder.ctx);
        let micropython = mpmods::micropython_module_def(&builder.ctx);
        let time_ext = mpmods::time_ext_module_def(&builder.ctx);
        let tls = tlsmod::module_def(&builder.ctx);
        let machine = pinmods::machine::module_def(&builder.ctx);
        let pyb = pinmods::pyb::module_def(&builder.ctx);
        let interp = builder
            .add_native_modules(&stdlib)
            .add_native_module(asyncio)
            .add_native_module(micropython)
            .add_native_module(time_ext)
            .add_native_module(tls)
            .add_native_module(machine)
            .add_native_module(pyb)
            .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
            .add_frozen_modules(py_freeze!(dir = "../../../python-lib"))
            .build();
        let rt = Runtime { interp };
        let clock = self.clock;
        let backend = self.pin_backend.unwrap_or_else(|| Box::new(SimBackend::new(Stimulus::default())));
        let mut pins = Pins::new(backend, clock.clone());
        pins.keep_changes(self.record_pins);
        for observer in self.pin_observers {
            pins.observe(observer);
        }
        rt.interp.enter(|vm| -> std::io::Result<()> {
            asyncio::Scheduler::install(clock, pins)?;
            mpmods::extend_std_modules(vm).map_err(|e| {
                std::io::Error::other(traceback::format_exception(vm, &e))
            })
        })?;
        Ok(rt)
    }
}

/// An interpreter with microloop's modules, bound to the thread that built it.
pub struct Runtime {
    interp: Interpreter,
}

impl Runtime {
    /// A builder with an empty `sys.argv` and the system clock.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder {
            argv: Vec::new(),
            paths: Vec::new(),
            xoptions: Vec::new(),
            clock: Arc::new(SystemClock::new()),
            pin_backend: None,
            pin_observers: Vec::new(),
            record_pins: false,
        }
    }

    /// Ends the pin recording at the present time and returns it: every line the scripts used
    /// with its level, and, if the builder asked to [`record_pins`](RuntimeBuilder::record_pins),
    /// every change, ready to write as VCD or SVG.
    pub fn finish_pins(&self) -> Trace {
        self.enter(|_vm| {
            let s = asyncio::core::sched();
            let mut glue = s.pins.borrow_mut();
            glue.pins.finish();
            glue.pins.trace().clone()
        })
    }

    /// Runs `f` with the VM.
    pub fn enter<R>(&self, f: impl FnOnce(&VirtualMachine) -> R) -> R {
        self.interp.enter(f)
    }

    /// Runs a script file as `__main__`. Prints an uncaught exception and returns the exit code.
    pub fn run_file(&self, path: &str) -> ExitCode {
        self.enter(|vm| {
            let source = match std::fs::read_to_string(path) {
                Ok(s) => s,
                Err(e) => {
                    let msg = format!("can't open file '{path}': [Errno {}] {e}\n", e.raw_os_error().unwrap_or(0));
                    traceback::write_stderr(vm, &msg);
                    return 2;
                }
            };
            let result = main_scope(vm, Some(path)).and_then(|scope| exec(vm, scope, &source, path));
            exit_code(vm, result)
        })
    }

    /// Runs source text as `__main__` (the `-c` option).
    pub fn run_source(&self, source: &str, name: &str) -> ExitCode {
        self.enter(|vm| {
            let result = main_scope(vm, None).and_then(|scope| exec(vm, scope, source, name));
            exit_code(vm, result)
        })
    }

    /// Runs a module found on `sys.path` as `__main__` (the `-m` option).
    pub fn run_module(&self, module: &str) -> ExitCode {
        self.enter(|vm| {
            // runpy replaces the `__main__` module, so one must exist first.
            let result = main_scope(vm, None)
                .and_then(|_| vm.import("runpy", 0))
                .and_then(|runpy| runpy.get_attr("_run_module_as_main", vm))
                .and_then(|f| f.call((vm.ctx.new_str(module), vm.ctx.new_bool(true)), vm))
                .map(drop);
            exit_code(vm, result)
        })
    }
}

impl Drop for Runtime {
    /// Drops the loop's tasks while the interpreter still exists, so coroutines finalise.
    fn drop(&mut self) {
        self.interp.enter(|_vm| {
            asyncio::Scheduler::uninstall();
            asyncio::forget_shared_sleep();
        });
    }
}

/// A fresh `__main__` module's namespace.
pub fn main_scope(vm: &VirtualMachine, file: Option<&str>) -> PyResult<Scope> {
    let scope = vm.new_scope_with_main()?;
    if let Some(file) = file {
        scope.globals.set_item("__file__", vm.ctx.new_str(file).into(), vm)?;
    }
    Ok(scope)
}

/// Compiles and runs `source` in `scope`; a syntax error names `filename` and the line.
pub fn exec(vm: &VirtualMachine, scope: Scope, source: &str, filename: &str) -> PyResult<()> {
    let code = vm
        .compile(source, Mode::Exec, filename.to_owned())
        .map_err(|err| vm.new_syntax_error(&err, Some(source)))?;
    vm.run_code_obj(code, scope).map(drop)
}

/// Turns a run's result into an exit status, printing an uncaught exception on stderr.
pub fn exit_code(vm: &VirtualMachine, result: PyResult<()>) -> ExitCode {
    match result {
        Ok(()) => 0,
        Err(exc) => handle_uncaught(vm, &exc),
    }
}

/// SystemExit gives its code (None: 0, an int: it, anything else: printed, 1); any other
/// exception is printed with its traceback and gives 1.
pub fn handle_uncaught(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> ExitCode {
    if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
        let code = exc.as_object().get_attr("code", vm).unwrap_or_else(|_| vm.ctx.none());
        if vm.is_none(&code) {
            return 0;
        }
        if let Ok(n) = code.try_to_value::<i32>(vm) {
            return n;
        }
        if let Ok(s) = code.str(vm) {
            traceback::write_stderr(vm, &format!("{s}\n"));
        }
        return 1;
    }
    traceback::print_exception(vm, exc, None);
    1
}
