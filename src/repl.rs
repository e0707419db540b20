//! The REPL as MicroPython's unix port has it, byte for byte on the terminal: the friendly
//! REPL (`>>> ` and `... `, auto-indent, Tab completion, history), paste mode (Ctrl-E), and the
//! raw REPL (Ctrl-A) with raw-paste, the protocol tools such as mpremote and pyboard.py drive
//! a board with. MicroPython's `shared/runtime/pyexec.c` is the model.
//!
//! microloop drives the terminal itself rather than through rustyline: rustyline installs its
//! own SIGINT handler for as long as its editor exists, so Ctrl-C never reached the code the
//! REPL ran; it reads the terminal through a buffer of its own, made for each line and
//! dropped with it, so of several lines pasted at once only the first ran; and the raw REPL's
//! bytes are not lines to edit. Here, as in MicroPython, the terminal is raw while a
//! line is typed (Ctrl-C is a key) and back in the user's mode while code runs (Ctrl-C is a
//! SIGINT, which the interpreter raises as KeyboardInterrupt).

mod editor;
mod help;
mod terminal;

use std::io::Read;

use microloop_runtime::{
    ExitCode, Runtime, handle_uncaught,
    rustpython_vm::{
        AsObject, PyObjectRef, VirtualMachine, builtins::PyBaseExceptionRef, compiler::Mode, scope::Scope,
    },
    traceback,
};

use editor::{CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E, Completion, Editor, Ending, History};
pub use help::install as install_help;
use terminal::{Input, Terminal};

/// The window of raw-paste mode: how many bytes the host may send before waiting for the
/// next `\x01` (MicroPython's unix port: 128).
const RAW_PASTE_WINDOW: u16 = 128;

/// Where the lines typed are kept between sessions: `~/.microloop_history`.
fn history_file() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".microloop_history"))
}

/// Runs the REPL on standard input until Ctrl-D or the end of input, in the `__main__`
/// namespace a script run before it left (`-i`). Returns the exit status: 0, or SystemExit's.
pub fn run(rt: &Runtime) -> ExitCode {
    let mut term = Terminal::open();
    // Lines read from a pipe were not typed: they stay out of the history.
    let history_path = if term.is_terminal() { history_file() } else { None };
    let mut editor = Editor::new(History::load(history_path.as_deref()));
    let code = rt.enter(|vm| {
        let scope = match vm.main_namespace() {
            Ok(globals) => Scope::with_builtins(None, globals, vm),
            Err(e) => return handle_uncaught(vm, &e),
        };
        let mut repl = Repl { vm, scope, term: &mut term, editor: &mut editor };
        repl.banner();
        loop {
            if let Err(code) = repl.friendly() {
                return code;
            }
        }
    });
    drop(term);
    if let Some(path) = &history_path {
        let _ = editor.history.save(path);
    }
    code
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

/// What a piece of input is, for compiling it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A statement typed at `>>> `: an expression's value is printed.
    Statement,
    /// A program (paste mode, raw REPL).
    Program,
}

/// A REPL session. Every method returning `Result<(), ExitCode>` gives `Err` when the REPL is
/// to end with that status (Ctrl-D, end of input, SystemExit).
struct Repl<'a> {
    vm: &'a VirtualMachine,
    /// `__main__`'s namespace, where everything typed runs.
    scope: Scope,
    term: &'a mut Terminal,
    editor: &'a mut Editor,
}

impl Repl<'_> {
    fn out(&self, bytes: &[u8]) {
        self.term.write(bytes);
    }

    fn banner(&self) {
        let text = format!(
            "microloop {} (MicroPython asyncio on RustPython 0.6.0); {}\r\nUse help() for help, Ctrl-D to exit.\r\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS
        );
        self.out(text.as_bytes());
    }

    fn read_line(&mut self, text: &mut Vec<u8>, prompt: &str) -> Ending {
        let (vm, globals) = (self.vm, self.scope.globals.clone());
        let mut complete = |typed: &str| complete(vm, &globals, typed);
        self.editor.read_line(self.term, text, prompt, &mut complete)
    }

    /// Reads one statement at `>>> ` (with its continuation lines) and runs it, or handles the
    /// control key typed on the empty line.
    fn friendly(&mut self) -> Result<(), ExitCode> {
        let mut text = Vec::new();
        match self.read_line(&mut text, ">>> ") {
            Ending::Enter => {}
            Ending::Control(CTRL_A) => {
                self.out(b"\r\n");
                self.raw()?;
                self.banner();
                return Ok(());
            }
            Ending::Control(CTRL_B) => {
                self.out(b"\r\n");
                self.banner();
                return Ok(());
            }
            Ending::Control(CTRL_E) => return self.paste(),
            Ending::Control(CTRL_D) => {
                self.out(b"\r\n");
                return Err(0);
            }
            // End of input in the middle of a line: run the line, then stop.
            Ending::End if !text.is_empty() => {
                self.out(b"\r\n");
                self.execute(&text, Source::Statement, false)?;
                return Err(0);
            }
            Ending::End => {
                self.out(b"\r\n");
                return Err(0);
            }
            // Ctrl-C: the line is dropped.
            Ending::Control(_) => {
                self.out(b"\r\n");
                return Ok(());
            }
        }
        if text.is_empty() {
            return Ok(());
        }
        let mut ended = false;
        while continues(&text) {
            text.push(b'\n');
            match self.read_line(&mut text, "... ") {
                Ending::Control(CTRL_C) => {
                    self.out(b"\r\n");
                    return Ok(());
                }
                Ending::Control(CTRL_D) => break,
                Ending::End => {
                    ended = true;
                    break;
                }
                // Enter, and Ctrl-A, B or E on an empty line, which only start a new line.
                _ => {}
            }
        }
        self.execute(&text, Source::Statement, false)?;
        if ended {
            self.out(b"\r\n");
            return Err(0);
        }
        Ok(())
    }

    /// Paste mode: everything up to Ctrl-D is one program, echoed as it comes; Ctrl-C drops it.
    fn paste(&mut self) -> Result<(), ExitCode> {
        self.out(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ");
        let mut text = Vec::new();
        loop {
            match self.term.read() {
                Input::Byte(CTRL_C) => {
                    self.out(b"\r\n");
                    return Ok(());
                }
                Input::Byte(CTRL_D) | Input::End => break,
                Input::Byte(b'\r') => {
                    text.push(b'\r');
                    self.out(b"\r\n=== ");
                }
                Input::Byte(c) => {
                    text.push(c);
                    self.out(&[c]);
                }
            }
        }
        self.out(b"\r\n");
        self.execute(&text, Source::Program, false)
    }

    /// The raw REPL: no echo, no editing; the program sent ends with Ctrl-D and is answered
    /// `OK`, its output, `\x04`, the exception if one ended it, `\x04`, then the `>` prompt.
    /// Returns on Ctrl-B; Ctrl-D with nothing sent ends microloop, as it does MicroPython's
    /// unix port.
    fn raw(&mut self) -> Result<(), ExitCode> {
        self.out(b"raw REPL; CTRL-B to exit\r\n>");
        let mut text = Vec::new();
        loop {
            let c = match self.term.read() {
                Input::Byte(c) => c,
                // The end of input reads as Ctrl-D from then on: what was sent runs, then
                // microloop stops.
                Input::End => CTRL_D,
            };
            match c {
                CTRL_A => {
                    if let [CTRL_E, kind] = text[..] {
                        self.raw_paste(kind)?;
                    } else {
                        self.out(b"raw REPL; CTRL-B to exit\r\n");
                    }
                    text.clear();
                    self.out(b">");
                }
                CTRL_B => {
                    self.out(b"\r\n");
                    return Ok(());
                }
                CTRL_C => text.clear(),
                CTRL_D => {
                    self.out(b"OK");
                    if text.is_empty() {
                        self.out(b"\r\n");
                        return Err(0);
                    }
                    self.execute(&text, Source::Program, true)?;
                    text.clear();
                    self.out(b">");
                }
                _ => text.push(c),
            }
        }
    }

    /// Raw-paste mode (`\x05A\x01` in the raw REPL): the host sends the program in windows of
    /// [`RAW_PASTE_WINDOW`] bytes, each granted by a `\x01`, and ends it with Ctrl-D, answered
    /// `\x04`; the output follows as in the raw REPL, without `OK`. Any other letter than `A`
    /// asks for a mode this REPL does not have: `R\x00`.
    fn raw_paste(&mut self, kind: u8) -> Result<(), ExitCode> {
        if kind != b'A' {
            self.out(b"R\x00");
            return Ok(());
        }
        self.out(b"R\x01");
        self.out(&RAW_PASTE_WINDOW.to_le_bytes());
        // The window size grants one window; this grants a second.
        self.out(b"\x01");
        let mut text = Vec::new();
        let mut window = RAW_PASTE_WINDOW;
        loop {
            match self.term.read() {
                Input::Byte(CTRL_C) => {
                    // Interrupted while sending: the program ends as if it had raised it.
                    self.out(b"\x04\x04");
                    let interrupt = self.vm.new_exception_empty(self.vm.ctx.exceptions.keyboard_interrupt.to_owned());
                    self.print_exception(&interrupt);
                    self.out(b"\x04");
                    return Ok(());
                }
                Input::Byte(CTRL_D) | Input::End => break,
                Input::Byte(c) => {
                    text.push(c);
                    window -= 1;
                    if window == 0 {
                        self.out(b"\x01");
                        window = RAW_PASTE_WINDOW;
                    }
                }
            }
        }
        self.out(b"\x04");
        self.execute(&text, Source::Program, true)
    }

    /// Compiles and runs `text` in `__main__`, the terminal in the user's mode meanwhile so
    /// that Ctrl-C interrupts. An exception is printed on stdout, as MicroPython's REPL prints
    /// it; SystemExit ends the REPL. With `eof_marks` (the raw REPL), `\x04` follows the
    /// program's output and then the exception's.
    fn execute(&mut self, text: &[u8], kind: Source, eof_marks: bool) -> Result<(), ExitCode> {
        // MicroPython reads a line feed as Enter, so a program's line breaks are carriage
        // returns by now (CRLF is two): each is a new line.
        let source = String::from_utf8_lossy(text).replace('\r', "\n");
        if kind == Source::Statement && only_blanks_and_comments(&source) {
            return Ok(());
        }
        let vm = self.vm;
        let mode = if kind == Source::Statement { Mode::Single } else { Mode::Exec };
        // A Ctrl-C that came as the previous program ended must not stop this one.
        let _ = vm.check_signals();
        self.term.cooked();
        let result = vm
            .compile(&source, mode, "<stdin>".to_owned())
            .map_err(|err| err.into_pyexception(vm, Some(&source)))
            .and_then(|code| vm.run_code_obj(code, self.scope.clone()));
        self.term.raw();
        if eof_marks {
            self.out(b"\x04");
        }
        if let Err(exc) = result {
            if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
                let code = handle_uncaught(vm, &exc);
                if eof_marks {
                    self.out(b"\x04");
                }
                return Err(code);
            }
            self.print_exception(&exc);
        }
        if eof_marks {
            self.out(b"\x04");
        }
        Ok(())
    }

    fn print_exception(&self, exc: &PyBaseExceptionRef) {
        let stdout = self.vm.sys_module.get_attr("stdout", self.vm).ok();
        traceback::print_exception(self.vm, exc, stdout.as_ref());
    }
}

/// Whether the statement typed so far needs more lines, by MicroPython's rule (its REPL does
/// not ask the compiler): a bracket or a triple-quoted string left open, a line ending in a
/// backslash, or a compound statement (`if`, `for`, `def`, `@`...) whose last line is not yet
/// empty.
fn continues(text: &[u8]) -> bool {
    let Some(&last) = text.last() else { return false };
    let compound = text[0] == b'@'
        || ["if", "while", "for", "try", "with", "def", "class", "async"].iter().any(|word| {
            text.starts_with(word.as_bytes())
                && !text.get(word.len()).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
        });
    /// Where the scan is: outside strings, or inside one opened by ' or " (once or thrice).
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single(u8),
        Triple(u8),
    }
    let mut quote = Quote::None;
    // Open round, square and curly brackets, counted apart as MicroPython counts them.
    let mut open = [0i32; 3];
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        match c {
            b'\'' | b'"' => {
                let triple = text[i..].starts_with(&[c, c, c]);
                match quote {
                    Quote::None if triple => {
                        quote = Quote::Triple(c);
                        i += 2;
                    }
                    Quote::None => quote = Quote::Single(c),
                    Quote::Triple(q) if q == c && triple => {
                        quote = Quote::None;
                        i += 2;
                    }
                    Quote::Single(q) if q == c => quote = Quote::None,
                    _ => {}
                }
            }
            b'\\' if quote != Quote::None && matches!(text.get(i + 1), Some(b'\'' | b'"' | b'\\')) => i += 1,
            b'(' | b'[' | b'{' if quote == Quote::None => open[bracket_kind(c)] += 1,
            b')' | b']' | b'}' if quote == Quote::None => open[bracket_kind(c)] -= 1,
            _ => {}
        }
        i += 1;
    }
    matches!(quote, Quote::Triple(_))
        || (open.iter().any(|&n| n > 0) && quote == Quote::None)
        || last == b'\\'
        || (compound && last != b'\n')
}

/// Which of the three kinds a bracket is: round, square, curly.
fn bracket_kind(c: u8) -> usize {
    match c {
        b'(' | b')' => 0,
        b'[' | b']' => 1,
        _ => 2,
    }
}

/// A statement with no code in it (`# note`, spaces): MicroPython runs it as nothing.
fn only_blanks_and_comments(source: &str) -> bool {
    source.lines().all(|l| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    })
}

/// Tab's completion of the dotted name that ends `typed` (what precedes the cursor on the
/// line), as MicroPython completes: the first name from `__main__`'s globals (not the
/// builtins), the rest as attributes; names starting with `_` only when `_` was typed; and
/// `import ` for the line's first word when nothing else fits.
fn complete(vm: &VirtualMachine, globals: &microloop_runtime::rustpython_vm::builtins::PyDictRef, typed: &str) -> Completion {
    let start = typed.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
    let mut words: Vec<&str> = typed[start..].split('.').collect();
    let partial = words.pop().unwrap_or_default();
    let names: Vec<String> = if let Some((first, rest)) = words.split_first() {
        let Ok(Some(mut obj)) = globals.get_item_opt(*first, vm) else { return Completion::Nothing };
        for word in rest {
            match obj.get_attr(&vm.ctx.new_str(*word), vm) {
                Ok(next) => obj = next,
                Err(_) => return Completion::Nothing,
            }
        }
        attribute_names(vm, &obj)
    } else {
        globals.keys_vec().iter().filter_map(|k| k.str(vm).ok().map(|s| s.to_string())).collect()
    };
    let mut fits: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(partial) && (!partial.is_empty() || !n.starts_with('_')) && n.is_ascii())
        .collect();
    fits.sort();
    fits.dedup();
    match fits.as_slice() {
        [] if start == 0 && words.is_empty() && !partial.is_empty() && "import ".starts_with(partial) => {
            Completion::Insert("import "[partial.len()..].to_owned())
        }
        [] => Completion::Nothing,
        [one] => Completion::Insert(one[partial.len()..].to_owned()),
        [first, rest @ ..] => {
            let shared = rest.iter().fold(first.len(), |n, name| {
                first.bytes().zip(name.bytes()).take(n).take_while(|(a, b)| a == b).count()
            });
            if shared > partial.len() {
                Completion::Insert(first[partial.len()..shared].to_owned())
            } else {
                Completion::Several(fits)
            }
        }
    }
}

/// `dir(obj)`, or nothing if it fails.
fn attribute_names(vm: &VirtualMachine, obj: &PyObjectRef) -> Vec<String> {
    match vm.dir(Some(obj.clone())) {
        Ok(list) => list.borrow_vec().iter().filter_map(|n| n.str(vm).ok().map(|s| s.to_string())).collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::continues;

    #[test]
    fn statements_continue_by_micropython_rule() {
        assert!(!continues(b"1+2"));
        assert!(continues(b"for i in x:"));
        assert!(continues(b"for i in x:\n    print(i)"));
        assert!(!continues(b"for i in x:\n    print(i)\n"));
        assert!(continues(b"(1,"));
        assert!(!continues(b"(1,\n2)"));
        assert!(continues(b"x = '''a"));
        assert!(!continues(b"x = '('"));
        assert!(continues(b"x = 1 + \\"));
        assert!(continues(b"@decorator"));
        assert!(!continues(b"iffy = 1"));
        assert!(continues(b"if(x):"));
        assert!(!continues(b""));
    }
}
