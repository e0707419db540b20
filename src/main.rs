//! `microloop`: runs MicroPython asyncio scripts, with the command line of MicroPython's unix
//! port (`micropython FILE [ARGS]`, `-c CODE`, `-m MODULE`, `-X key=value`, a REPL).

mod repl;

use std::io::IsTerminal;
use std::path::Path;

use clap::Parser;
use microloop_runtime::{ExitCode, Runtime};

/// Runs MicroPython asyncio programs off the microcontroller.
#[derive(Parser, Debug)]
#[command(
    name = "microloop",
    version,
    long_version = concat!(env!("CARGO_PKG_VERSION"), " (MicroPython asyncio API on RustPython 0.5.0)"),
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
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("microloop: cannot start: {e}");
            std::process::exit(1);
        }
    };

    let code: ExitCode = if let Some(code) = &cli.command {
        rt.run_source(code, "<string>")
    } else if let Some(module) = &cli.module {
        rt.run_module(module)
    } else if let Some(file) = cli.args.first() {
        rt.run_file(file)
    } else if std::io::stdin().is_terminal() {
        repl::run(&rt)
    } else {
        repl::run_stdin(&rt)
    };
    let code = if cli.inspect && std::io::stdin().is_terminal() { repl::run(&rt) } else { code };
    // No finalisation pass: output is unbuffered, and tearing modules down only costs time.
    std::process::exit(code);
}
