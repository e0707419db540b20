//! The REPL's end of the terminal: bytes in from standard input one at a time, bytes out to
//! standard output, and the two terminal modes MicroPython's unix port switches between (raw
//! while a line is typed, the user's own while code runs, so that Ctrl-C is then a SIGINT).

use std::io;

/// One byte of input, or the end of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A byte; a line feed arrives as a carriage return, as Enter sends it.
    Byte(u8),
    /// Standard input has ended (Ctrl-D in a pipe's terms).
    End,
}

/// Standard input and output, as the REPL reads and writes them.
pub struct Terminal {
    /// The settings the terminal had when the REPL started, restored while code runs and when
    /// the REPL ends; None when standard input is not a terminal (a pipe has no modes).
    original: Option<libc::termios>,
    /// Input has ended: every later read reports the end again without asking the system.
    ended: bool,
}

impl Terminal {
    /// Takes over standard input, in raw mode if it is a terminal.
    pub fn open() -> Terminal {
        // SAFETY: isatty and tcgetattr only read descriptor 0's state, into a local that
        // tcgetattr fills completely when it succeeds; the zeroed value is never used otherwise.
        let original = unsafe {
            let mut settings: libc::termios = std::mem::zeroed();
            (libc::isatty(0) == 1 && libc::tcgetattr(0, &mut settings) == 0).then_some(settings)
        };
        let terminal = Terminal { original, ended: false };
        terminal.raw();
        terminal
    }

    /// Whether standard input is a terminal (not a pipe or a file).
    pub fn is_terminal(&self) -> bool {
        self.original.is_some()
    }

    /// Keys arrive one at a time as they are typed, unechoed, with no translation (Ctrl-C is a
    /// byte, not a signal). Output processing is left as it was, so a `\n` the program prints
    /// still reaches the screen as `\r\n`.
    pub fn raw(&self) {
        if let Some(original) = &self.original {
            let mut settings = *original;
            settings.c_iflag = 0;
            settings.c_lflag = 0;
            settings.c_cc[libc::VMIN] = 1;
            settings.c_cc[libc::VTIME] = 0;
            apply(&settings);
        }
    }

    /// The terminal as the user had it: echo, line editing by the terminal, Ctrl-C a SIGINT
    /// (the interpreter's handler turns it into KeyboardInterrupt).
    pub fn cooked(&self) {
        if let Some(original) = &self.original {
            apply(original);
        }
    }

    /// The next byte of input. One byte per read, as MicroPython reads: what is typed ahead
    /// stays in the terminal for the code the REPL runs (`input()` gets its own lines).
    pub fn read(&mut self) -> Input {
        if self.ended {
            return Input::End;
        }
        let mut byte = 0u8;
        loop {
            // SAFETY: reads at most one byte into `byte`, which outlives the call.
            let n = unsafe { libc::read(0, (&raw mut byte).cast(), 1) };
            match n {
                1 => return Input::Byte(if byte == b'\n' { b'\r' } else { byte }),
                -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        self.ended = true;
        Input::End
    }

    /// Writes `bytes` to standard output, straight to the descriptor: Python's `sys.stdout` is
    /// unbuffered too, so the two never overtake each other.
    pub fn write(&self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: writes from a live slice, at most its length.
            let n = unsafe { libc::write(1, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                rest = &rest[n as usize..];
            } else if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                // Nobody is reading any more: nothing useful to do with the rest.
                return;
            }
        }
    }
}

impl Drop for Terminal {
    /// Leaves the terminal as it was found.
    fn drop(&mut self) {
        self.cooked();
    }
}

/// Sets descriptor 0's terminal settings at once, keeping what was typed ahead.
fn apply(settings: &libc::termios) {
    // SAFETY: `settings` is a complete termios read from this terminal, possibly changed.
    unsafe {
        libc::tcsetattr(0, libc::TCSANOW, settings);
    }
}
