//! The interactive prompt: line editing and history by rustyline, continuation lines for
//! compound statements, expression results echoed.

use std::io::Read;

use microloop_runtime::{
    rustpython_vm::AsObject,
    ExitCode, Runtime, handle_uncaught, main_scope,
    rustpython_vm::{VirtualMachine, compiler::Mode, scope::Scope, vm::VmCompileError},
};
use rustyline::{DefaultEditor, error::ReadlineError};

/// What compiling the lines typed so far gave.
enum Entry {
    /// Run it.
    Complete,
    /// Keep reading lines.
    Incomplete,
}

fn history_file() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".microloop_history"))
}

/// Runs the REPL until Ctrl-D. Returns the exit status (SystemExit's code, else 0).
pub fn run(rt: &Runtime) -> ExitCode {
    let Ok(mut editor) = DefaultEditor::new() else {
        eprintln!("microloop: the terminal does not support line editing");
        return 1;
    };
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "microloop {} (MicroPython asyncio on RustPython 0.6.0)\nUse Ctrl-D to exit",
        env!("CARGO_PKG_VERSION")
    );
    let code = rt.enter(|vm| {
        let scope = match main_scope(vm, None) {
            Ok(s) => s,
            Err(e) => return handle_uncaught(vm, &e),
        };
        let mut buffer = String::new();
        loop {
            let prompt = if buffer.is_empty() { ">>> " } else { "... " };
            match editor.readline(prompt) {
                Ok(line) => {
                    let blank = line.trim().is_empty();
                    if buffer.is_empty() && blank {
                        continue;
                    }
                    // A compound statement (a line ending in ':') ends with an empty line.
                    let in_block = buffer.lines().any(|l| l.trim_end().ends_with(':'));
                    buffer.push_str(&line);
                    buffer.push('\n');
                    if in_block && !blank {
                        continue;
                    }
                    match eval(vm, &scope, &buffer) {
                        Ok(Entry::Incomplete) => continue,
                        Ok(Entry::Complete) => {}
                        Err(code) => return code,
                    }
                    let _ = editor.add_history_entry(buffer.trim_end());
                    buffer.clear();
                }
                Err(ReadlineError::Interrupted) => {
                    println!("KeyboardInterrupt");
                    buffer.clear();
                }
                Err(_) => return 0,
            }
        }
    });
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    code
}

/// Compiles and runs what was typed. Err carries an exit status when SystemExit was raised.
fn eval(vm: &VirtualMachine, scope: &Scope, source: &str) -> Result<Entry, ExitCode> {
    let code = match vm.compile(source, Mode::Single, "<stdin>".to_owned()) {
        Ok(code) => code,
        Err(VmCompileError::Compile(err)) => {
            let exc = vm.new_syntax_error_maybe_incomplete(&err, Some(source), true);
            if exc.class().is(vm.ctx.exceptions.incomplete_input_error) && !source.ends_with("\n\n") {
                return Ok(Entry::Incomplete);
            }
            let exc = vm.new_syntax_error(&err, Some(source));
            microloop_runtime::traceback::print_exception(vm, &exc, None);
            return Ok(Entry::Complete);
        }
        Err(err) => {
            let exc = err.into_pyexception(vm, Some(source));
            microloop_runtime::traceback::print_exception(vm, &exc, None);
            return Ok(Entry::Complete);
        }
    };
    if let Err(exc) = vm.run_code_obj(code, scope.clone()) {
        if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
            return Err(handle_uncaught(vm, &exc));
        }
        handle_uncaught(vm, &exc);
    }
    Ok(Entry::Complete)
}

/// Runs a program read from standard input (`microloop < script.py`).
pub fn run_stdin(rt: &Runtime) -> ExitCode {
    let mut source = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut source) {
        eprintln!("microloop: cannot read standard input: {e}");
        return 1;
    }
    crate::status(rt, rt.run_source(&source, "<stdin>"))
}
