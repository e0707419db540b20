//! Runs MicroPython asyncio scripts inside a Rust program: microloop's native `asyncio`
//! module, MicroPython's companion modules (`machine`, `pyb`, `micropython`, `time` with
//! `ticks_ms`), and the embedding API.
//!
//! - [`RuntimeBuilder`] sets `sys.argv`, import paths, extra modules given as source,
//!   [host modules](HostModule) of Rust functions (async ones too), where the script's pins
//!   ([`pins::PinBackend`]) and output go, and the clock (real, or a [`ManualClock`] for virtual
//!   time).
//! - [`Runtime`] runs a file, source text or module and returns `Ok` or an [`Error`] carrying the
//!   Python exception's type, message and traceback. A runtime lives on the thread that built
//!   it; runtimes on different threads share nothing.
//! - [`Handle`] is `Send`: other threads set named ThreadSafeFlags, queue calls on the loop
//!   (`call_soon_threadsafe`), stop `run_forever`, and interrupt a run, at once or at a
//!   deadline.
//!
//! ```no_run
//! let rt = microloop_runtime::Runtime::builder().argv(["blink.py"]).build()?;
//! if let Err(e) = rt.run_file("blink.py") {
//!     eprintln!("{e}");
//!     std::process::exit(e.exit_code());
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The crate's `examples/` hold three hosts: `blink_host` (a pin backend of its own),
//! `sensor_host` (an async function completed by a worker thread) and `timed_stop` (a run
//! stopped cleanly after 2 s).

#![warn(missing_docs)]

pub mod asyncio;
mod compat;
mod host;
mod mpmods;
mod output;
mod pinmods;
mod threads;
mod tlsmod;
pub mod traceback;
mod value;

use std::io::Write;
use std::sync::Arc;

use microloop_core::pins::{PinBackend, PinObserver, Pins, SimBackend, Stimulus, Trace};
use rustpython_vm::{
    AsObject, Interpreter, PyResult, Settings, VirtualMachine, builtins::PyBaseExceptionRef,
    compiler::Mode, py_freeze, scope::Scope,
};

pub use microloop_core::heap;
pub use microloop_core::pins;
pub use microloop_core::{Clock, ManualClock, SystemClock, VirtualClock};
pub use rustpython_vm;
pub use value::Value;
pub use host::{Closed, Completion, ErrorKind, Handle, HostError, HostModule};

use host::{HostFn, Link};
use output::Sink;

/// What a run ended with, as a process exit status: 0, 1 for an uncaught exception (its
/// traceback already printed on stderr), or SystemExit's code.
pub type ExitCode = i32;

/// Configures a [`Runtime`].
///
/// ```
/// use microloop_runtime::Runtime;
/// let log = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
/// let sink = log.clone();
/// let rt = Runtime::builder()
///     .argv(["app.py", "--fast"])
///     .module("settings", "PERIOD_MS = 250\n")
///     .stdout_fn(move |text| sink.borrow_mut().push_str(text))
///     .build()?;
/// rt.run_source("import sys, settings\nprint(sys.argv[1], settings.PERIOD_MS)\n", "app.py")?;
/// assert_eq!(*log.borrow(), "--fast 250\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    /// Python modules given as source text: name, source.
    sources: Vec<(String, String)>,
    /// Modules of host functions.
    host_modules: Vec<HostModule>,
    /// Where `sys.stdout` goes; the process's stdout if not set.
    stdout: Option<Sink>,
    /// Where `sys.stderr` goes; the process's stderr if not set.
    stderr: Option<Sink>,
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

    /// Adds a Python module given as source text, which scripts import as `name` before any
    /// file of that name. A dotted name (`"app.config"`) puts it in a package; a name that
    /// others are inside (`"app"`) becomes the package's `__init__`. Tracebacks show it as
    /// `app/config.py`. The source is compiled when first imported, so a syntax error in it
    /// is raised by that import, naming the file and line.
    pub fn module(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.sources.push((name.into(), source.into()));
        self
    }

    /// Adds a module of Rust functions (see [`HostModule`]).
    pub fn host_module(mut self, module: HostModule) -> Self {
        self.host_modules.push(module);
        self
    }

    /// Sends the script's `sys.stdout` (`print` included) to `out`. Each write of the script
    /// is written through at once; wrap `out` in a `BufWriter` to batch them (the runtime
    /// flushes it at the end of each run).
    pub fn stdout(mut self, out: impl Write + 'static) -> Self {
        self.stdout = Some(Sink::Writer(Box::new(out)));
        self
    }

    /// Calls `f` with each piece of text the script writes to `sys.stdout`, in order, as it
    /// writes it (`print("a", 1)` makes several writes: `a`, ` `, `1`, then the newline).
    pub fn stdout_fn(mut self, f: impl FnMut(&str) + 'static) -> Self {
        self.stdout = Some(Sink::Callback(Box::new(f)));
        self
    }

    /// Sends the script's `sys.stderr`, tracebacks included, to `out`.
    pub fn stderr(mut self, out: impl Write + 'static) -> Self {
        self.stderr = Some(Sink::Writer(Box::new(out)));
        self
    }

    /// Calls `f` with each piece of text the script writes to `sys.stderr`.
    pub fn stderr_fn(mut self, f: impl FnMut(&str) + 'static) -> Self {
        self.stderr = Some(Sink::Callback(Box::new(f)));
        self
    }

    /// Builds the interpreter with the native modules, the frozen standard library and what
    /// this builder was given. Fails if the loop's poller cannot be created.
    pub fn build(self) -> std::io::Result<Runtime> {
        let mut settings = Settings::default();
        settings.argv = self.argv;
        settings.path_list = self.paths.clone();
        let sys_path = self.paths;
        settings.xoptions = self.xoptions;
        // Every print reaches a pipe at once, as on MicroPython's unix port.
        settings.buffered_stdio = false;
        settings.import_site = false;
        settings.write_bytecode = false;
        settings.ignore_environment = true;
        settings.user_site_directory = false;
        // MicroPython's text is UTF-8 throughout. UTF-8 mode also spares start-up the import
        // of `locale` (and `re` behind it) that finding the locale's encoding for stdio costs:
        // 67 M of the 122 M instructions of `-c "import asyncio"`.
        settings.utf8_mode = 1;
        // Interrupts reach a script busy in Python code through this channel, which the
        // interpreter checks between bytecodes.
        let (signal_tx, signal_rx) = rustpython_vm::signal::user_signal_channel();
        // A heap limit (microloop_core::heap, when the host's allocator is its LimitedHeap)
        // reaches the script as MemoryError, raised between bytecodes or where the refused
        // allocation was asked for.
        microloop_core::heap::set_hook(heap_event);
        let builder = Interpreter::builder(settings).init_hook(move |vm| {
            mpmods::set_gc_thresholds(vm);
            vm.set_user_signal_channel(signal_rx)
        });
        let stdlib = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
        let asyncio = asyncio::module_def(&builder.ctx);
        let micropython = mpmods::micropython_module_def(&builder.ctx);
        let time_ext = mpmods::time_ext_module_def(&builder.ctx);
        let tls = tlsmod::module_def(&builder.ctx);
        let machine = pinmods::machine::module_def(&builder.ctx);
        let pyb = pinmods::pyb::module_def(&builder.ctx);
        let microloop = host::microloop_mod::module_def(&builder.ctx);
        let thread = threads::module_def(&builder.ctx);
        let interp = builder
            .add_native_modules(&stdlib)
            .add_native_module(asyncio)
            .add_native_module(micropython)
            .add_native_module(time_ext)
            .add_native_module(tls)
            .add_native_module(machine)
            .add_native_module(pyb)
            .add_native_module(microloop)
            .add_native_module(thread)
            .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
            .add_frozen_modules(py_freeze!(dir = "../../../python-lib"))
            .build();
        let clock = self.clock;
        let backend = self.pin_backend.unwrap_or_else(|| Box::new(SimBackend::new(Stimulus::default())));
        let mut pins = Pins::new(backend, clock.clone());
        pins.keep_changes(self.record_pins);
        for observer in self.pin_observers {
            pins.observe(observer);
        }
        let (sources, host_modules, stdout, stderr) = (self.sources, self.host_modules, self.stdout, self.stderr);
        let mut host_fns = Vec::new();
        let link = interp.enter(|vm| -> std::io::Result<Arc<Link>> {
            let link = install_scheduler(clock, Some(pins), Some(signal_tx))?;
            let setup = || -> PyResult<()> {
                asyncio::fastpath::install_module_getattr(vm);
                mpmods::extend_std_modules(vm)?;
                threads::install(vm)?;
                compat::install(vm)?;
                set_sys_path(vm, &sys_path)?;
                if let Some(out) = stdout {
                    output::install(vm, "stdout", out)?;
                }
                if let Some(err) = stderr {
                    output::install(vm, "stderr", err)?;
                }
                for m in &host_modules {
                    m.install(vm, &mut host_fns)?;
                }
                if !sources.is_empty() {
                    let dict = vm.ctx.new_dict();
                    for (name, source) in sources {
                        dict.set_item(name.as_str(), vm.ctx.new_str(source).into(), vm)?;
                    }
                    let finder = vm.import("_microloop_sources", 0)?;
                    finder.get_attr("install", vm)?.call((dict,), vm)?;
                }
                Ok(())
            };
            setup().map_err(|e| std::io::Error::other(traceback::format_exception(vm, &e)))?;
            Ok(link)
        })?;
        Ok(Runtime { interp, link, host_fns })
    }
}

/// Makes `sys.path` the builder's directories and nothing else (the VM adds directories of
/// a CPython installation that microloop does not use), and gives it MicroPython's meaning of
/// the entry `.frozen` (python-lib/_microloop_path.py).
fn set_sys_path(vm: &VirtualMachine, paths: &[String]) -> PyResult<()> {
    let list: Vec<_> = paths.iter().map(|p| vm.ctx.new_str(p.as_str()).into()).collect();
    vm.sys_module.set_attr("path", vm.ctx.new_list(list), vm)?;
    vm.import("_microloop_path", 0)?.get_attr("install", vm)?.call((), vm)?;
    Ok(())
}

/// Passes the heap limit's reports to the VM. Runs inside the allocator: sets atomics only.
fn heap_event(event: microloop_core::heap::HeapEvent) {
    match event {
        microloop_core::heap::HeapEvent::Crossed(size) => rustpython_vm::signal::request_memory_error(size),
        microloop_core::heap::HeapEvent::Refused(size) => rustpython_vm::signal::note_refused_allocation(size),
    }
}

/// An interpreter with microloop's modules, bound to the thread that built it.
pub struct Runtime {
    interp: Interpreter,
    /// What the runtime shares with its [`Handle`]s.
    link: Arc<Link>,
    /// The host modules' functions, dropped with the runtime.
    host_fns: Vec<HostFn>,
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
            sources: Vec::new(),
            host_modules: Vec::new(),
            stdout: None,
            stderr: None,
        }
    }

    /// A handle that other threads use to set flags, queue calls, stop or interrupt the
    /// script (see [`Handle`]).
    pub fn handle(&self) -> Handle {
        Handle::new(self.link.clone())
    }

    /// Ends the pin recording at the present time and returns it: every line the scripts used
    /// with its level, and, if the builder asked to [`record_pins`](RuntimeBuilder::record_pins),
    /// every change, ready to write as VCD or SVG.
    pub fn finish_pins(&self) -> Trace {
        self.enter(|_vm| pinmods::finish_trace())
    }

    /// Runs `f` with the VM.
    pub fn enter<R>(&self, f: impl FnOnce(&VirtualMachine) -> R) -> R {
        self.interp.enter(f)
    }

    /// Makes a signal the interpreter handles (SIGINT, Ctrl-C) wake the loop at once when it
    /// is asleep in the poller, so that its KeyboardInterrupt is raised then. Without it, a
    /// signal that lands after the loop's last look at the interpreter's signals and before it
    /// blocks waits for the loop's next wake-up (the end of an `asyncio.sleep(20)`).
    ///
    /// For a command line: the interpreter's signal handler writes each signal's number to a
    /// pipe (`signal.set_wakeup_fd`, a setting of the whole process, which only the main
    /// thread may make), and a thread reading it wakes the poller. Both stay until the
    /// process exits: call it once per process.
    pub fn wake_on_signals(&self) -> std::io::Result<()> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let Some(notifier) = asyncio::core::with_sched(|sched| sched.notifier()) else {
            return Err(std::io::Error::other("no scheduler on this thread"));
        };
        let (mut reader, writer) = std::io::pipe()?;
        // SAFETY: sets a flag on a descriptor the writer owns; the handler needs non-blocking.
        if unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        self.enter(|vm| -> PyResult<()> {
            let set_wakeup_fd = vm.import("_signal", 0)?.get_attr("set_wakeup_fd", vm)?;
            set_wakeup_fd.call((writer.as_raw_fd(),), vm)?;
            Ok(())
        })
        .map_err(|_| std::io::Error::other("the interpreter refused the signal wake-up descriptor"))?;
        // The handler writes to the descriptor for as long as the process lives.
        std::mem::forget(writer);
        std::thread::Builder::new().name("microloop-signals".into()).spawn(move || {
            let mut signals = [0u8; 64];
            loop {
                match reader.read(&mut signals) {
                    Ok(0) => return,
                    Ok(_) => notifier.notify(),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })?;
        Ok(())
    }

    /// Runs a script file as `__main__`.
    pub fn run_file(&self, path: &str) -> Result<(), Error> {
        let source = std::fs::read_to_string(path).map_err(|source| Error::Open { path: path.to_owned(), source })?;
        self.enter(|vm| {
            self.link.clear_raised();
            self.link.set_running(true);
            let result = main_scope(vm, Some(path)).and_then(|scope| exec(vm, scope, &source, path));
            self.outcome(vm, result)
        })
    }

    /// Runs source text as `__main__` (the `-c` option); `name` is the file name tracebacks show.
    pub fn run_source(&self, source: &str, name: &str) -> Result<(), Error> {
        self.enter(|vm| {
            self.link.clear_raised();
            self.link.set_running(true);
            let result = main_scope(vm, None).and_then(|scope| exec(vm, scope, source, name));
            self.outcome(vm, result)
        })
    }

    /// Runs a module found on `sys.path` as `__main__` (the `-m` option).
    pub fn run_module(&self, module: &str) -> Result<(), Error> {
        self.enter(|vm| {
            self.link.clear_raised();
            self.link.set_running(true);
            // runpy replaces the `__main__` module, so one must exist first.
            let result = main_scope(vm, None)
                .and_then(|_| vm.import("runpy", 0))
                .and_then(|runpy| runpy.get_attr("_run_module_as_main", vm))
                .and_then(|f| f.call((vm.ctx.new_str(module), vm.ctx.new_bool(true)), vm))
                .map(drop);
            self.outcome(vm, result)
        })
    }

    /// Flushes the host's output writers, then turns the run's result into `Ok` or an
    /// [`Error`].
    fn outcome(&self, vm: &VirtualMachine, mut result: PyResult<()>) -> Result<(), Error> {
        // CPython waits for the threads `threading` started as non-daemons, also after
        // `sys.exit()`. (After an uncaught exception it prints the traceback first, which
        // microloop's caller prints later; it does not wait then.)
        let exiting = result.as_ref().is_err_and(|e| e.fast_isinstance(vm.ctx.exceptions.system_exit));
        if result.is_ok() || exiting {
            let joined = threads::join_non_daemon(vm);
            if result.is_ok() {
                result = joined;
            }
        }
        self.link.set_running(false);
        for name in ["stdout", "stderr"] {
            if let Ok(out) = vm.sys_module.get_attr(name, vm)
                && out.downcast_ref::<output::PyHostWriter>().is_some()
                && let Err(e) = vm.call_method(&out, "flush", ())
                && result.is_ok()
            {
                // Output the host's writer could not take is an error of the run, not silence.
                result = Err(e);
            }
        }
        let interrupted = self.link.was_raised();
        match outcome(vm, result) {
            Err(Error::Exception(e)) if interrupted && e.type_name == "KeyboardInterrupt" => {
                Err(Error::Interrupted { traceback: e.traceback })
            }
            other => other,
        }
    }
}

/// Why a run did not end normally.
///
/// ```
/// use microloop_runtime::{Error, Runtime};
/// let rt = Runtime::builder().stderr(std::io::sink()).build()?;
/// match rt.run_source("def f():\n    raise ValueError('bad reading')\nf()\n", "probe.py") {
///     Err(Error::Exception(e)) => {
///         assert_eq!((e.type_name.as_str(), e.message.as_str()), ("ValueError", "bad reading"));
///         assert_eq!(
///             e.traceback,
///             "Traceback (most recent call last):\n  File \"probe.py\", line 3, in <module>\n  File \"probe.py\", line 2, in f\nValueError: bad reading\n"
///         );
///     }
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(rt.run_source("import sys\nsys.exit(3)\n", "x.py").unwrap_err().exit_code(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub enum Error {
    /// An exception escaped the script.
    Exception(ScriptException),
    /// The script raised `SystemExit` (`sys.exit`) with a status other than 0.
    Exit {
        /// The exit status: the int given, or 1 for any other object.
        code: ExitCode,
        /// The text of a non-int object given to `sys.exit`, which a command line prints.
        message: Option<String>,
    },
    /// A [`Handle`] interrupted the run ([`Handle::interrupt`] or a deadline) and the
    /// script did not catch the KeyboardInterrupt.
    Interrupted {
        /// Where the script was, in MicroPython's format.
        traceback: String,
    },
    /// The script file could not be read.
    Open {
        /// The path given.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A Python exception that ended a run, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptException {
    /// The exception's class name, `ValueError`.
    pub type_name: String,
    /// `str()` of the exception.
    pub message: String,
    /// The whole traceback, in MicroPython's format, ending with a newline.
    pub traceback: String,
    /// A KeyboardInterrupt (Ctrl-C, SIGINT), or an instance of a subclass of it.
    pub keyboard_interrupt: bool,
}

impl Error {
    /// The process exit status this error stands for: 1 for an exception, 130 for a
    /// KeyboardInterrupt (the status a shell gives a process SIGINT ended), SystemExit's
    /// status, 2 for a file that cannot be opened (as MicroPython's unix port exits).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Exception(e) if e.keyboard_interrupt => 130,
            Error::Exception(_) => 1,
            Error::Exit { code, .. } => *code,
            Error::Interrupted { .. } => 130,
            Error::Open { .. } => 2,
        }
    }
}

impl std::fmt::Display for Error {
    /// What a command line prints for the error: the traceback, the SystemExit message, or
    /// `can't open file ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Exception(e) => f.write_str(e.traceback.trim_end()),
            Error::Exit { message: Some(m), .. } => f.write_str(m),
            Error::Exit { code, message: None } => write!(f, "exit status {code}"),
            Error::Interrupted { .. } => f.write_str("interrupted"),
            Error::Open { path, source } => {
                write!(f, "can't open file '{path}': [Errno {}] {source}", source.raw_os_error().unwrap_or(0))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Turns a run's result into `Ok`, or the [`Error`] that ended it.
fn outcome(vm: &VirtualMachine, result: PyResult<()>) -> Result<(), Error> {
    let Err(exc) = result else { return Ok(()) };
    if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
        let code = exc.as_object().get_attr("code", vm).unwrap_or_else(|_| vm.ctx.none());
        if vm.is_none(&code) {
            return Ok(());
        }
        if let Ok(n) = code.try_to_value::<i32>(vm) {
            return if n == 0 { Ok(()) } else { Err(Error::Exit { code: n, message: None }) };
        }
        let message = code.str(vm).map(|s| s.to_string()).ok();
        return Err(Error::Exit { code: 1, message });
    }
    let message = exc.as_object().str(vm).map(|s| s.to_string()).unwrap_or_default();
    Err(Error::Exception(ScriptException {
        type_name: exc.class().name().to_string(),
        message,
        traceback: traceback::format_exception(vm, &exc),
        keyboard_interrupt: exc.fast_isinstance(vm.ctx.exceptions.keyboard_interrupt),
    }))
}

impl Drop for Runtime {
    /// Drops the loop's tasks while the interpreter still exists, so coroutines finalise.
    fn drop(&mut self) {
        self.link.close();
        // The host's closures and output writers go now, whatever the interpreter keeps: a
        // worker waiting for a channel they hold sees it close, a file is flushed and closed.
        self.host_fns.clear();
        self.interp.enter(|vm| {
            threads::abandon();
            output::release(vm);
            asyncio::Scheduler::uninstall();
            asyncio::forget_shared_objects();
        });
    }
}

/// Installs a scheduler on this thread with a runtime's wake-up sources and returns its link to
/// other threads: the pins (a simulated board without `pins`), whose interrupt handlers run with
/// the scheduled callbacks, then the host, whose calls run once the poll has taken them in (see
/// `asyncio/sources.rs`). `signal` reaches the interpreter between bytecodes, for interrupts.
pub(crate) fn install_scheduler(
    clock: Arc<dyn Clock>,
    pins: Option<Pins>,
    signal: Option<rustpython_vm::signal::UserSignalSender>,
) -> std::io::Result<Arc<Link>> {
    let pins = pins.unwrap_or_else(|| Pins::simulated(clock.clone()));
    asyncio::Scheduler::install(clock, |sources| {
        pinmods::PinSource::register(sources, pins)?;
        Ok(host::HostSource::register(sources, signal))
    })
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
        .map_err(|err| err.into_pyexception(vm, Some(source)))?;
    vm.run_code_obj(code, scope).map(drop)
}

/// For the REPL: prints an exception that ended a statement on `sys.stderr` (SystemExit's
/// message, if it has one) and gives the exit status it stands for (0 for `sys.exit(0)`).
pub fn handle_uncaught(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> ExitCode {
    match outcome(vm, Err(exc.clone())) {
        Ok(()) => 0,
        Err(e) => {
            report(vm, &e);
            e.exit_code()
        }
    }
}

/// Prints what a command line shows for `e` on `sys.stderr`.
pub fn report(vm: &VirtualMachine, e: &Error) {
    match e {
        Error::Exception(x) => traceback::write_stderr(vm, &x.traceback),
        Error::Exit { message: None, .. } => {}
        other => traceback::write_stderr(vm, &format!("{other}\n")),
    }
}
