//! `microloop`: runs MicroPython asyncio scripts, with the command line of MicroPython's unix
//! port (`micropython FILE [ARGS]`, `-c CODE`, `-m MODULE`, `-X key=value`, a REPL).

mod pinview;
mod repl;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use microloop_runtime::pins::gpiochip::{GpioChipBackend, LineMapping};
use microloop_runtime::pins::{SimBackend, Stimulus, Trace};
use microloop_runtime::{Clock, ExitCode, ManualClock, Runtime, SystemClock};

/// Python programs allocate and free small objects at a high rate; mimalloc serves them from
/// per-size free lists where glibc's malloc spent 13% of a CPU profile of bench/objects.py in
/// `malloc`, `free` and their consolidation (bench/RESULTS.md has the measured gain).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Program passed in as a string
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "module")]
    command: Option<String>,

    /// Run a module from sys.path as a script
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,

    /// Implementation options, as MicroPython's `-X heapsize=N`, `-X emit=native`,
    /// `-X realtime` (accepted; recorded in sys._xoptions)
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
    /// deadline, so timing-heavy scripts finish at once with exact timestamps
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

/// `sys.path` entries from the MICROPYPATH environment variable, colon-separated.
fn micropypath() -> Vec<String> {
    std::env::var("MICROPYPATH")
        .map(|p| p.split(':').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn main() {
    let cli = Cli::parse();
    let (argv, first_path): (Vec<String>, String) = if cli.command.is_some() {
        (std::iter::once("-c".to_owned()).chain(cli.args.clone()).collect(), String::new())
    } else if let Some(module) = &cli.module {
        (std::iter::once(module.clone()).chain(cli.args.clone()).collect(), String::new())
    } else if let Some(file) = cli.args.first() {
        let dir = Path::new(file).parent().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        (cli.args.clone(), dir)
    } else {
        (vec![String::new()], String::new())
    };

    let mut builder = Runtime::builder().argv(argv).path(first_path);
    for dir in micropypath() {
        builder = builder.path(dir);
    }
    for opt in &cli.xoptions {
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

    let code: ExitCode = if let Some(code) = &cli.command {
        status(&rt, rt.run_source(code, "<string>"))
    } else if let Some(module) = &cli.module {
        status(&rt, rt.run_module(module))
    } else if let Some(file) = cli.args.first() {
        status(&rt, rt.run_file(file))
    } else if std::io::stdin().is_terminal() {
        repl::run(&rt)
    } else {
        repl::run_stdin(&rt)
    };
    let code = if cli.inspect && std::io::stdin().is_terminal() { repl::run(&rt) } else { code };
    let code = write_traces(&cli, &rt.finish_pins(), code);
    // No finalisation pass: output is unbuffered, and tearing modules down only costs time.
    std::process::exit(code);
}

/// The exit status of a run, after printing on stderr whatever ended it.
pub(crate) fn status(rt: &Runtime, result: Result<(), microloop_runtime::Error>) -> ExitCode {
    match result {
        Ok(()) => 0,
        Err(e) => {
            rt.enter(|vm| microloop_runtime::report(vm, &e));
            e.exit_code()
        }
    }
}

/// The clock, the pin backend and the pin display the options ask for.
fn pin_setup(cli: &Cli, builder: microloop_runtime::RuntimeBuilder) -> Result<microloop_runtime::RuntimeBuilder, String> {
    let clock: Arc<dyn Clock> =
        if cli.virtual_time { Arc::new(ManualClock::new(0)) } else { Arc::new(SystemClock::new()) };
    let mut builder = builder.clock(clock).record_pins(cli.vcd.is_some() || cli.svg.is_some());
    if !cli.gpio.is_empty() {
        let backend = GpioChipBackend::new(cli.gpio.clone()).map_err(|e| format!("cannot watch GPIO lines: {e}"))?;
        builder = builder.pin_backend(Box::new(backend));
    } else if let Some(path) = &cli.stimulus {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let stimulus = Stimulus::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        builder = builder.pin_backend(Box::new(SimBackend::new(stimulus)));
    }
    let interactive = cli.command.is_none() && cli.module.is_none() && cli.args.is_empty();
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
