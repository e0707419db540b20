//! `microloop`: runs MicroPython asyncio scripts, with the command line of MicroPython's unix
//! port (`micropython FILE [ARGS]`, `-c CODE`, `-m MODULE`, `-X key=value`, a REPL).

mod pinview;
mod repl;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use clap::error::ErrorKind;
use microloop_runtime::heap;
use microloop_runtime::pins::gpiochip::{GpioChipBackend, LineMapping};
use microloop_runtime::pins::{SimBackend, Stimulus, Trace};
use microloop_runtime::{Clock, ExitCode, Runtime, SystemClock, VirtualClock};

/// Python programs allocate and free small objects at a high rate; mimalloc serves them from
/// per-size free lists where glibc's malloc spent 13% of a CPU profile of bench/objects.py in
/// `malloc`, `free` and their consolidation (bench/RESULTS.md has the measured gain). The
/// limit around it turns running out of memory into MemoryError (see [`set_heap_limits`]).
#[global_allocator]
static ALLOCATOR: heap::LimitedHeap<mimalloc::MiMalloc> = heap::LimitedHeap::new(mimalloc::MiMalloc);

/// Runs MicroPython asyncio programs off the microcontroller.
#[derive(Parser, Debug)]
#[command(
    name = "microloop",
    version,
    long_version = concat!(env!("CARGO_PKG_VERSION"), " (MicroPython asyncio API on RustPython 0.6.0)"),
    about,
    override_usage = "microloop [OPTIONS] [FILE | -c CODE | -m MODULE] [ARGS]..."
)]
struct Cli {
    /// Program passed in as a string; what follows it is sys.argv[1:]
    #[arg(short = 'c', value_names = ["CODE", "ARGS"], num_args = 1.., allow_hyphen_values = true, conflicts_with = "module")]
    command: Vec<String>,

    /// Run a module from sys.path as a script; what follows it is sys.argv[1:]
    #[arg(short = 'm', value_names = ["MODULE", "ARGS"], num_args = 1.., allow_hyphen_values = true)]
    module: Vec<String>,

    /// Implementation options, as MicroPython's `-X heapsize=N`, `-X emit=native`,
    /// `-X realtime` (accepted; recorded in sys._xoptions); `-X taskdump` prints the pending
    /// tasks on stderr when the run ends
    #[arg(short = 'X', value_name = "KEY[=VALUE]")]
    xoptions: Vec<String>,

    /// Enter the REPL after running the script
    #[arg(short = 'i')]
    inspect: bool,

    /// Verbose (accepted for compatibility)
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,

    /// Optimisation level (accepted for compatibility)
    #[arg(short = 'O', action = clap::ArgAction::Count)]
    optimize: u8,

    /// Run on a virtual clock: whenever every task waits for time, time jumps to the next
    /// deadline, so timing-heavy scripts finish at once with exact timestamps; a script that
    /// polls the clock (100 reads of one instant) moves it a microsecond per further read
    #[arg(long)]
    virtual_time: bool,

    /// Write every pin change to FILE as a Value Change Dump (GTKWave, Surfer, PulseView)
    #[arg(long, value_name = "FILE")]
    vcd: Option<PathBuf>,

    /// Draw every pin change to FILE as an SVG timing diagram
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Drive the simulated board's inputs from FILE: lines like `120ms pin 5 = 0`
    #[arg(long, value_name = "FILE", conflicts_with = "gpio")]
    stimulus: Option<PathBuf>,

    /// Do not show pin changes on stderr
    #[arg(long)]
    quiet_pins: bool,

    /// Put pin ID on a real GPIO line (Linux gpiochip); repeat for each pin. Unmapped ids do
    /// not exist. Example: --gpio 'LED(1)=gpiochip0:17' --gpio 'switch=gpiochip0:27:active-low'
    #[arg(long, value_name = "ID=CHIP:OFFSET[:active-low]", value_parser = LineMapping::parse)]
    gpio: Vec<LineMapping>,

    /// The script to run, then its arguments (sys.argv[1:])
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "FILE [ARGS]")]
    args: Vec<String>,
}

/// What MicroPython's unix port says, with status 1, to a command line it cannot use.
const INVALID_ARGUMENTS: &str = "Invalid command line arguments. Use -h option for help.";

/// The command line. One MicroPython would refuse (an unknown option, an option without its
/// value, an option where the script's name should be) gets MicroPython's message and status 1;
/// `-h` and `--version` print and exit, and a malformed value of microloop's own options
/// (`--gpio`) is explained.
fn parse_command_line() -> Cli {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // microloop's own options explain themselves (a bad `--gpio`, `--stimulus` with
            // `--gpio`).
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::ValueValidation
            | ErrorKind::ArgumentConflict => e.exit(),
            _ => {
                eprintln!("{INVALID_ARGUMENTS}");
                std::process::exit(1);
            }
        },
    };
    // The script's place takes what no option claimed, `-z` and `--foo` included.
    if cli.args.first().is_some_and(|a| a.starts_with('-')) {
        eprintln!("{INVALID_ARGUMENTS}");
        std::process::exit(1);
    }
    cli
}

/// `-m MODULE`, as MicroPython's unix port runs it: a module found on `sys.path` (or in the
/// standard library) runs as `__main__`, a package through its `__main__` submodule. A module
/// built into microloop has no code to run: it is imported and that is all, as MicroPython's
/// built-in modules are, except `asyncio` (and `uasyncio`), which MicroPython ships as a
/// package without `__main__`. A module or `__main__` that is not there is an ImportError
/// naming it.
fn run_module(rt: &Runtime, module: &str) -> ExitCode {
    use microloop_runtime::rustpython_vm::{
        AsObject, PyObjectRef, PyResult, VirtualMachine,
        builtins::{PyStr, PyTuple},
    };

    /// What `-m` does with the module.
    enum Plan {
        /// Run it as `__main__` (runpy).
        Run,
        /// Nothing more: a built-in module, imported.
        Done,
        /// Report that the module of this name does not exist.
        Missing(String),
    }
    /// `importlib.util.find_spec(name)`, None when it finds nothing or cannot look
    /// (`pkg.sub` under a missing `pkg`).
    fn find_spec(vm: &VirtualMachine, name: &str) -> PyResult<Option<PyObjectRef>> {
        vm.import("importlib.util", 0)?;
        let util = vm.sys_module.get_attr("modules", vm)?.get_item("importlib.util", vm)?;
        match util.get_attr("find_spec", vm)?.call((vm.ctx.new_str(name),), vm) {
            Ok(spec) if vm.is_none(&spec) => Ok(None),
            Ok(spec) => Ok(Some(spec)),
            Err(e) if e.fast_isinstance(vm.ctx.exceptions.import_error) => Ok(None),
            Err(e) => Err(e),
        }
    }
    let plan = |vm: &VirtualMachine| -> PyResult<Plan> {
        if matches!(module, "asyncio" | "uasyncio") {
            return Ok(Plan::Missing(format!("{module}.__main__")));
        }
        let builtin = vm.sys_module.get_attr("builtin_module_names", vm)?;
        let builtin = builtin.downcast_ref::<PyTuple>().is_some_and(|names| {
            names.as_slice().iter().any(|n| n.downcast_ref::<PyStr>().and_then(|s| s.to_str()) == Some(module))
        });
        if builtin {
            vm.import(&vm.ctx.new_str(module), 0)?;
            return Ok(Plan::Done);
        }
        let Some(spec) = find_spec(vm, module)? else { return Ok(Plan::Missing(module.to_owned())) };
        let locations = spec.get_attr("submodule_search_locations", vm)?;
        let package = !vm.is_none(&locations);
        let main = format!("{module}.__main__");
        if package && find_spec(vm, &main)?.is_none() {
            return Ok(Plan::Missing(main));
        }
        Ok(Plan::Run)
    };
    let plan = rt.enter(|vm| plan(vm).map_err(|e| microloop_runtime::handle_uncaught(vm, &e)));
    match plan {
        Ok(Plan::Run) => status(rt, rt.run_module(module)),
        Ok(Plan::Done) => 0,
        Ok(Plan::Missing(name)) => rt.enter(|vm| {
            let error = vm.new_import_error(format!("no module named '{name}'"), vm.ctx.new_str(name));
            microloop_runtime::handle_uncaught(vm, &error)
        }),
        Err(code) => code,
    }
}

/// Where MicroPython's unix port looks for modules after the script's directory when
/// MICROPYPATH is not set: the modules built in, then the user's and the system's libraries
/// (`mip` installs packages in the first of these).
const DEFAULT_MICROPYPATH: &str = ".frozen:~/.micropython/lib:/usr/lib/micropython";

/// The `sys.path` entries after the first, as MicroPython's unix port makes them: the
/// MICROPYPATH environment variable (or [`DEFAULT_MICROPYPATH`]), colon-separated, with a
/// leading `~/` replaced by $HOME.
fn micropypath() -> Vec<String> {
    let path = std::env::var("MICROPYPATH").unwrap_or_else(|_| DEFAULT_MICROPYPATH.to_owned());
    let home = std::env::var("HOME").ok();
    // A leading separator stands for the empty first entry, which sys.path has already.
    let path = path.strip_prefix(':').unwrap_or(&path);
    if path.is_empty() {
        return Vec::new();
    }
    path.split(':')
        .map(|entry| match (entry.strip_prefix("~/"), &home) {
            (Some(rest), Some(home)) => format!("{home}/{rest}"),
            _ => entry.to_owned(),
        })
        .collect()
}

/// The first entry of `sys.path` for a script: its directory, made absolute with symbolic
/// links resolved, as MicroPython's unix port does (`""` if the file cannot be resolved; the
/// run then reports that it cannot open it).
fn script_dir(file: &str) -> String {
    std::fs::canonicalize(file)
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn main() {
    let cli = parse_command_line();
    let (argv, first_path): (Vec<String>, String) = if !cli.command.is_empty() {
        (std::iter::once("-c".to_owned()).chain(cli.command[1..].iter().cloned()).collect(), String::new())
    } else if !cli.module.is_empty() {
        (cli.module.clone(), String::new())
    } else if let Some(file) = cli.args.first() {
        (cli.args.clone(), script_dir(file))
    } else {
        (vec![String::new()], String::new())
    };

    let mut builder = Runtime::builder().argv(argv).path(first_path);
    for dir in micropypath() {
        builder = builder.path(dir);
    }
    let mut heapsize = None;
    let taskdump = cli.xoptions.iter().any(|opt| opt == "taskdump");
    for opt in &cli.xoptions {
        let Some(size) = xoption(opt) else {
            eprintln!("{INVALID_ARGUMENTS}");
            std::process::exit(1);
        };
        heapsize = size.or(heapsize);
        let (key, value) = match opt.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (opt.clone(), None),
        };
        builder = builder.xoption(key, value);
    }
    builder = match pin_setup(&cli, builder) {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("microloop: {msg}");
            std::process::exit(2);
        }
    };
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("microloop: cannot start: {e}");
            std::process::exit(1);
        }
    };

    // MicroPython has help() everywhere, not only at the prompt.
    if let Err(e) = rt.enter(repl::install_help) {
        rt.enter(|vm| microloop_runtime::handle_uncaught(vm, &e));
    }
    // Ctrl-C wakes a loop asleep in the poller at once; without it (it cannot fail short of
    // running out of descriptors) Ctrl-C still works, just not at once in every case.
    let _ = rt.wake_on_signals();
    // SIGUSR1 prints the task dump on stderr (what each task waits on, and where), as soon as
    // the loop is between two steps; without it (it cannot fail on Linux) the signal would end
    // the process, its default.
    let _ = microloop_runtime::asyncio::monitor::dump_on_signal(libc::SIGUSR1);
    set_heap_limits(heapsize);
    let code: ExitCode = if let Some(code) = cli.command.first() {
        // MicroPython's unix port names `-c` code `<stdin>` in tracebacks.
        status(&rt, rt.run_source(code, "<stdin>"))
    } else if let Some(module) = cli.module.first() {
        run_module(&rt, module)
    } else if let Some(file) = cli.args.first() {
        status(&rt, rt.run_file(file))
    } else if std::io::stdin().is_terminal() || cli.inspect {
        repl::run(&rt)
    } else {
        repl::run_stdin(&rt)
    };
    // As on MicroPython, `-i` enters the REPL whatever ended the program (SystemExit too) and
    // whatever standard input is; with nothing else to run, the REPL above was it.
    let ran_something = !cli.command.is_empty() || !cli.module.is_empty() || !cli.args.is_empty();
    let code = if cli.inspect && ran_something { repl::run(&rt) } else { code };
    if taskdump {
        rt.enter(microloop_runtime::asyncio::monitor::dump_if_pending);
    }
    let code = write_traces(&cli, &rt.finish_pins(), code);
    // No finalisation pass: output is unbuffered, and tearing modules down only costs time.
    std::process::exit(code);
}

/// Checks a `-X` option as MicroPython's unix port does: `emit=bytecode|native|viper` and
/// `realtime` are accepted (and change nothing here), `heapsize=<n>[w][K|M]` gives the heap
/// size in bytes (at least 700; `w` scales a 32-bit word count to this machine's words, as
/// MicroPython does); microloop's own `taskdump` prints the task dump on stderr when a run
/// ends with tasks pending. `None` for anything else; `Some(None)` for an option without a
/// size.
fn xoption(opt: &str) -> Option<Option<usize>> {
    match opt {
        "emit=bytecode" | "emit=native" | "emit=viper" | "realtime" | "taskdump" => return Some(None),
        _ => {}
    }
    let spec = opt.strip_prefix("heapsize=")?;
    let digits = spec.find(|c: char| !c.is_ascii_digit()).unwrap_or(spec.len());
    let mut size: usize = spec[..digits].parse().ok()?;
    let mut rest = &spec[digits..];
    let words = rest.starts_with(['w', 'W']);
    if words {
        rest = &rest[1..];
    }
    size = match rest {
        "" => size,
        "k" | "K" => size.checked_mul(1024)?,
        "m" | "M" => size.checked_mul(1024 * 1024)?,
        _ => return None,
    };
    if words {
        size = size.checked_mul(std::mem::size_of::<usize>())? / 4;
    }
    (size >= 700).then_some(Some(size))
}

/// Sets the heap's limit and ceiling (`microloop_runtime::heap`). The limit is `-X
/// heapsize=N` bytes beyond what the interpreter holds once started (so the size is the
/// program's own), else a third of the tightest of the machine's memory, the control group's
/// limit and the process's data limit, and a quarter of its address-space limit: a list that
/// doubles holds its old and its new storage at once while it grows, so a program just under
/// the limit can briefly need three times what it holds, and must still get its MemoryError
/// rather than the kernel's refusal (an abort) or the OOM killer; address space also holds the
/// allocator's reserved and not yet used ranges. The ceiling, past which a big allocation is
/// refused outright, is the tightest of those figures whole.
fn set_heap_limits(heapsize: Option<usize>) {
    let mut ceiling: Option<usize> = None;
    let mut limit: Option<usize> = None;
    let mut tighten = |bytes: usize, share: usize| {
        ceiling = Some(ceiling.map_or(bytes, |c| c.min(bytes)));
        limit = Some(limit.map_or(bytes / share, |l| l.min(bytes / share)));
    };
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    if pages > 0 && page > 0 {
        tighten((pages as usize).saturating_mul(page as usize), 3);
    }
    for bytes in cgroup_memory_limits() {
        tighten(bytes, 3);
    }
    for (resource, share) in [(libc::RLIMIT_DATA, 3), (libc::RLIMIT_AS, 4)] {
        let mut rlimit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `rlimit` is a valid rlimit to write into.
        if unsafe { libc::getrlimit(resource, &mut rlimit) } == 0 && rlimit.rlim_cur != libc::RLIM_INFINITY {
            tighten(rlimit.rlim_cur as usize, share);
        }
    }
    if let Some(size) = heapsize {
        limit = Some(heap::used().saturating_add(size));
    }
    heap::set_ceiling(ceiling);
    heap::set_limit(limit);
}

/// The memory limits of the control groups the process is in, and of their parents: cgroup v2
/// `memory.max`, v1 `memory.limit_in_bytes` (`max` and v1's huge "no limit" are no limit).
fn cgroup_memory_limits() -> Vec<usize> {
    let Ok(groups) = std::fs::read_to_string("/proc/self/cgroup") else { return Vec::new() };
    let mut limits = Vec::new();
    for line in groups.lines() {
        // `ID:CONTROLLERS:PATH`; v2 has no controllers listed.
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next(), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let (root, file) = match controllers {
            "" => (PathBuf::from("/sys/fs/cgroup"), "memory.max"),
            c if c.split(',').any(|c| c == "memory") => (PathBuf::from("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"),
            _ => continue,
        };
        let mut dir = root.join(path.trim_start_matches('/'));
        loop {
            if let Ok(text) = std::fs::read_to_string(dir.join(file))
                && let Ok(bytes) = text.trim().parse::<usize>()
                && bytes < usize::MAX / 4
            {
                limits.push(bytes);
            }
            if dir == root || !dir.pop() {
                break;
            }
        }
    }
    limits
}

/// The exit status of a run, after printing on stderr whatever ended it.
pub(crate) fn status(rt: &Runtime, result: Result<(), microloop_runtime::Error>) -> ExitCode {
    match result {
        Ok(()) => 0,
        Err(e) => {
            rt.enter(|vm| microloop_runtime::report(vm, &e));
            // An uncaught KeyboardInterrupt (Ctrl-C, SIGINT) is 130, as on MicroPython.
            e.exit_code()
        }
    }
}

/// The clock, the pin backend and the pin display the options ask for.
fn pin_setup(cli: &Cli, builder: microloop_runtime::RuntimeBuilder) -> Result<microloop_runtime::RuntimeBuilder, String> {
    let clock: Arc<dyn Clock> =
        if cli.virtual_time { Arc::new(VirtualClock::new(0)) } else { Arc::new(SystemClock::new()) };
    let mut builder = builder.clock(clock).record_pins(cli.vcd.is_some() || cli.svg.is_some());
    if !cli.gpio.is_empty() {
        let backend = GpioChipBackend::new(cli.gpio.clone()).map_err(|e| format!("cannot watch GPIO lines: {e}"))?;
        builder = builder.pin_backend(Box::new(backend));
    } else if let Some(path) = &cli.stimulus {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let stimulus = Stimulus::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        builder = builder.pin_backend(Box::new(SimBackend::new(stimulus)));
    }
    let interactive = cli.command.is_empty() && cli.module.is_empty() && cli.args.is_empty();
    if !cli.quiet_pins {
        let stderr = std::io::stderr();
        if !stderr.is_terminal() {
            builder = builder.pin_observer(Box::new(pinview::PlainLines::new(stderr)));
        } else if !interactive && !cli.inspect {
            builder = builder.pin_observer(Box::new(pinview::LiveView::new(stderr, Box::new(pinview::stderr_rows))));
        }
    }
    Ok(builder)
}

/// Writes the VCD and SVG files asked for. A file that cannot be written is reported, and turns
/// a successful run's exit status into 1.
fn write_traces(cli: &Cli, trace: &Trace, code: ExitCode) -> ExitCode {
    let mut code = code;
    let mut save = |path: &Option<PathBuf>, write: &dyn Fn(std::fs::File) -> std::io::Result<()>| {
        let Some(path) = path else { return };
        if let Err(e) = std::fs::File::create(path).and_then(write) {
            eprintln!("microloop: cannot write {}: {e}", path.display());
            if code == 0 {
                code = 1;
            }
        }
    };
    save(&cli.vcd, &|f| trace.write_vcd(std::io::BufWriter::new(f)));
    save(&cli.svg, &|f| trace.write_svg(f));
    code
}
