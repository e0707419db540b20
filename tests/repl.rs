//! The REPL in a real pseudo-terminal, keystroke by keystroke. The expected bytes are what
//! MicroPython's unix port puts on the screen for the same keys (the terminal turns each `\n`
//! microloop writes into `\r\n`, so the editor's own `\r\n` arrives as `\r\r\n`); only the
//! banner and the interpreter's messages are microloop's.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use common::MICROLOOP;

/// How long a whole session may take. Only a hang reaches it: nothing waits for time, every
/// step reads until the bytes it expects have arrived.
const LIMIT: Duration = Duration::from_secs(20);

/// microloop running on a pseudo-terminal of its own, as in a terminal window.
struct Session {
    /// The terminal's other end: what microloop writes is read here, keys are written here.
    master: File,
    child: Child,
    /// Output read and not yet checked.
    unread: Vec<u8>,
    deadline: Instant,
    /// The session's HOME, where the history file goes.
    home: PathBuf,
}

impl Session {
    /// Starts `microloop ARGS` on a new terminal, HOME in a fresh directory.
    fn start(name: &str, args: &[&str]) -> Session {
        let home = std::env::temp_dir().join(format!("microloop-repl-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).expect("create HOME");
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two descriptors into the locals; no name, settings or size.
        let rc = unsafe {
            libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty just opened both descriptors, and nothing else owns them.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        for fd in [&master, &slave] {
            // SAFETY: sets close-on-exec on a descriptor this function owns.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let mut cmd = Command::new(MICROLOOP);
        cmd.args(args)
            .current_dir(&home)
            .env("HOME", &home)
            .stdin(slave.try_clone().expect("dup"))
            .stdout(slave.try_clone().expect("dup"))
            .stderr(slave);
        // SAFETY: runs in the child between fork and exec, after its standard descriptors are
        // the terminal: setsid and ioctl are async-signal-safe. The terminal becomes the new
        // session's controlling terminal, so Ctrl-C typed on it is a SIGINT to microloop.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start microloop");
        Session { master: File::from(master), child, unread: Vec::new(), deadline: Instant::now() + LIMIT, home }
    }

    /// Types `keys`.
    fn send(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("write to the terminal");
    }

    /// Reads what the terminal shows until `enough` says the unread output holds what is
    /// awaited; panics at the deadline.
    fn read_until(&mut self, what: &str, enough: impl Fn(&[u8]) -> bool) {
        while !enough(&self.unread) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let mut poll = libc::pollfd { fd: self.master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: polls one descriptor described by a live pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, left.as_millis().min(i32::MAX as u128) as i32) };
            let mut buf = [0u8; 4096];
            let n = if ready > 0 { self.master.read(&mut buf).unwrap_or(0) } else { 0 };
            if n == 0 {
                panic!("waiting for {what}; the terminal shows only {}", shown(&self.unread));
            }
            self.unread.extend_from_slice(&buf[..n]);
        }
    }

    /// Checks that the screen shows exactly `expected` next.
    fn expect(&mut self, expected: &[u8]) {
        self.read_until(&shown(expected), |seen| seen.len() >= expected.len());
        let got: Vec<u8> = self.unread.drain(..expected.len()).collect();
        assert_eq!(shown(&got), shown(expected));
    }

    /// Everything the screen shows up to and including the first `marker`.
    fn until(&mut self, marker: &[u8]) -> Vec<u8> {
        self.read_until(&shown(marker), |seen| seen.windows(marker.len()).any(|w| w == marker));
        let end = self.unread.windows(marker.len()).position(|w| w == marker).expect("marker") + marker.len();
        self.unread.drain(..end).collect()
    }

    /// Reads the banner and the first prompt.
    fn banner(&mut self) {
        self.expect(banner().as_bytes());
        self.expect(b">>> ");
    }

    /// Waits for microloop to end; its exit status.
    fn status(&mut self) -> Option<i32> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        self.child.wait_timeout(left).expect("wait for microloop").and_then(|s| s.code())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Bytes as Rust would write them in a byte string, for readable failures.
fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// The banner as the terminal shows it.
fn banner() -> String {
    format!(
        "microloop {} (MicroPython asyncio on RustPython 0.6.0); linux\r\r\nUse help() for help, Ctrl-D to exit.\r\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[test]
fn an_expression_is_echoed_and_ctrl_d_exits() {
    let mut s = Session::start("echo", &[]);
    s.banner();
    s.send(b"1+2\r");
    s.expect(b"1+2\r\r\n3\r\n>>> ");
    s.send(b"print('a', end='')\r");
    s.expect(b"print('a', end='')\r\r\na>>> ");
    s.send(b"x\r");
    s.expect(b"x\r\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n");
    s.until(b">>> ");
    s.send(b"\x04");
    s.expect(b"\r\r\n");
    assert_eq!(s.status(), Some(0));
}

#[test]
fn pasted_lines_all_run() {
    let mut s = Session::start("paste-lines", &[]);
    s.banner();
    s.send(b"a = 1\rb = 2\rprint(a + b)\r");
    s.expect(b"a = 1\r\r\n>>> b = 2\r\r\n>>> print(a + b)\r\r\n3\r\n>>> ");
    // A block pasted with its own indentation: the first space after an automatic indent takes
    // it back, and automatic indentation stays off for the rest of the statement.
    s.send(b"for i in range(2):\r    if i:\r        print(i)\r    print('x')\r\r");
    s.expect(b"for i in range(2):\r\r\n...     \x08\x08\x08   if i:\r\r\n...         print(i)\r\r\n");
    s.expect(b"...     print('x')\r\r\n... \r\r\nx\r\n1\r\nx\r\n>>> ");
}

#[test]
fn lines_after_a_colon_are_indented() {
    let mut s = Session::start("indent", &[]);
    s.banner();
    s.send(b"for i in range(2):\r");
    s.expect(b"for i in range(2):\r\r\n...     ");
    s.send(b"if i:\r");
    s.expect(b"if i:\r\r\n...         ");
    s.send(b"print(i)\r");
    s.expect(b"print(i)\r\r\n...         ");
    // Backspace takes a whole level of indentation.
    s.send(b"\x7f");
    s.expect(b"\x08\x08\x08\x08\x1b[K");
    s.send(b"print('x')\r");
    s.expect(b"print('x')\r\r\n...     ");
    // Two blank lines end the indentation, an empty line the block.
    s.send(b"\r");
    s.expect(b"\r\r\n...     ");
    s.send(b"\r");
    s.expect(b"\r\r\n... ");
    s.send(b"\r");
    s.expect(b"\r\r\nx\r\n1\r\nx\r\n>>> ");
}

#[test]
fn ctrl_c_at_the_prompt_drops_the_line() {
    let mut s = Session::start("ctrl-c-prompt", &[]);
    s.banner();
    s.send(b"\x03");
    s.expect(b"\r\r\n>>> ");
    s.send(b"abc\x03");
    s.expect(b"abc\r\r\n>>> ");
    s.send(b"if True:\r\x03");
    s.expect(b"if True:\r\r\n...     \r\r\n>>> ");
    s.send(b"7\r");
    s.expect(b"7\r\r\n7\r\n>>> ");
}

#[test]
fn ctrl_c_interrupts_a_busy_loop() {
    let mut s = Session::start("ctrl-c-loop", &[]);
    s.banner();
    s.send(b"i = 0\r");
    s.expect(b"i = 0\r\r\n>>> ");
    // `spin` shows once the loop runs (one line, so the traceback's line does not depend on
    // where the interrupt lands).
    s.send(b"while True: i += 1; x = i == 1 and print('spin')\r\r");
    s.expect(b"while True: i += 1; x = i == 1 and print('spin')\r\r\n... \r\r\nspin\r\n");
    s.send(b"\x03");
    s.expect(b"^CTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nKeyboardInterrupt: \r\n>>> ");
    s.send(b"i > 0\r");
    s.expect(b"i > 0\r\r\nTrue\r\n>>> ");
}

#[test]
fn ctrl_c_interrupts_a_sleeping_asyncio_run() {
    let mut s = Session::start("ctrl-c-asyncio", &[]);
    s.banner();
    s.send(b"import asyncio\r");
    s.expect(b"import asyncio\r\r\n>>> ");
    s.send(b"async def nap(): print('asleep'); await asyncio.sleep(20)\r\r");
    s.expect(b"async def nap(): print('asleep'); await asyncio.sleep(20)\r\r\n... \r\r\n>>> ");
    s.send(b"asyncio.run(nap())\r");
    s.expect(b"asyncio.run(nap())\r\r\nasleep\r\n");
    s.send(b"\x03");
    // The interrupt lands in the loop's wait or, rarely, in nap() just before it: the frames
    // may differ, not the start and the end.
    let shown_text = s.until(b">>> ");
    assert!(
        shown_text.starts_with(b"^CTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n")
            && shown_text.ends_with(b"KeyboardInterrupt: \r\n>>> "),
        "{}",
        shown(&shown_text)
    );
    // The loop runs again afterwards.
    s.send(b"asyncio.run(asyncio.sleep_ms(1))\r");
    s.expect(b"asyncio.run(asyncio.sleep_ms(1))\r\r\n>>> ");
}

#[test]
fn paste_mode_runs_on_ctrl_d_and_drops_on_ctrl_c() {
    let mut s = Session::start("paste-mode", &[]);
    s.banner();
    s.send(b"\x05");
    s.expect(b"\r\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\r\n=== ");
    s.send(b"for i in range(2):\r    print(i)\r1 + 1\r");
    s.expect(b"for i in range(2):\r\r\n===     print(i)\r\r\n=== 1 + 1\r\r\n=== ");
    s.send(b"\x04");
    s.expect(b"\r\r\n0\r\n1\r\n>>> ");
    s.send(b"\x05");
    s.expect(b"\r\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\r\n=== ");
    s.send(b"print('dropped')\r\x03");
    s.expect(b"print('dropped')\r\r\n=== \r\r\n>>> ");
    s.send(b"1\r");
    s.expect(b"1\r\r\n1\r\n>>> ");
}

#[test]
fn raw_repl_round_trip() {
    let mut s = Session::start("raw", &[]);
    s.banner();
    s.send(b"\x01");
    s.expect(b"\r\r\nraw REPL; CTRL-B to exit\r\r\n>");
    // Nothing is echoed; Ctrl-D sends the program.
    s.send(b"print(1)\nprint(2)\x04");
    s.expect(b"OK1\r\n2\r\n\x04\x04>");
    s.send(b"raise ValueError('bad')\x04");
    s.expect(b"OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nValueError: bad\r\n\x04>");
    // Ctrl-C drops what was sent so far.
    s.send(b"print('dropped')\x03print(3)\x04");
    s.expect(b"OK3\r\n\x04\x04>");
    // Raw-paste mode: window of 128 bytes, a second window granted at once.
    s.send(b"\x05A\x01");
    s.expect(b"R\x01\x80\x00\x01");
    s.send(b"print(4)\x04");
    s.expect(b"\x044\r\n\x04\x04>");
    // Another letter asks for a mode microloop does not have.
    s.send(b"\x05B\x01");
    s.expect(b"R\x00>");
    s.send(b"\x02");
    s.expect(format!("\r\r\n{}>>> ", banner()).as_bytes());
    s.send(b"2 * 3\r");
    s.expect(b"2 * 3\r\r\n6\r\n>>> ");
}

#[test]
fn raw_paste_grants_windows_as_bytes_arrive() {
    let mut s = Session::start("raw-paste", &[]);
    s.banner();
    s.send(b"\x01");
    s.expect(b"\r\r\nraw REPL; CTRL-B to exit\r\r\n>");
    s.send(b"\x05A\x01");
    s.expect(b"R\x01\x80\x00\x01");
    let program = format!("x = '{}'\nprint(len(x))", "a".repeat(300));
    s.send(&program.as_bytes()[..128]);
    s.expect(b"\x01");
    s.send(&program.as_bytes()[128..256]);
    s.expect(b"\x01");
    s.send(&program.as_bytes()[256..]);
    s.send(b"\x04");
    s.expect(b"\x04300\r\n\x04\x04>");
}

#[test]
fn tab_completes_one_name_and_lists_several() {
    let mut s = Session::start("tab", &[]);
    s.banner();
    s.send(b"import sys\r");
    s.expect(b"import sys\r\r\n>>> ");
    // One attribute fits: it is inserted.
    s.send(b"sys.pa\t");
    s.expect(b"sys.path");
    s.send(b"\x03");
    s.expect(b"\r\r\n>>> ");
    s.send(b"unique_name = 1\ralpha_one = 1\ralpha_two = 2\r");
    s.expect(b"unique_name = 1\r\r\n>>> alpha_one = 1\r\r\n>>> alpha_two = 2\r\r\n>>> ");
    s.send(b"uni\t");
    s.expect(b"unique_name");
    s.send(b"\x03");
    s.expect(b"\r\r\n>>> ");
    // Several fit: what they share is inserted, and the next Tab lists them.
    s.send(b"alp\t");
    s.expect(b"alpha_");
    s.send(b"\t");
    s.expect(b"\r\nalpha_one       alpha_two\r\n>>> alpha_");
    s.send(b"t\t\r");
    s.expect(b"two\r\r\n2\r\n>>> ");
    // After whitespace, Tab indents.
    s.send(b"x = \t");
    s.expect(b"x =     ");
}

#[test]
fn help_describes_the_repl_and_objects() {
    let mut s = Session::start("help", &[]);
    s.banner();
    s.send(b"help()\r");
    let page = s.until(b"microloop.\r\n>>> ");
    assert!(page.starts_with(b"help()\r\r\nmicroloop runs MicroPython asyncio programs on the RustPython VM.\r\n"), "{}", shown(&page));
    assert!(page.windows(6).any(|w| w == b"Ctrl-E"), "{}", shown(&page));
    s.send(b"class Pin:\r");
    s.expect(b"class Pin:\r\r\n...     ");
    s.send(b"level = 1\r");
    s.expect(b"level = 1\r\r\n...     ");
    s.send(b"name = 'LED'\r\r\r\r");
    s.expect(b"name = 'LED'\r\r\n...     \r\r\n...     \r\r\n... \r\r\n>>> ");
    s.send(b"help(Pin)\r");
    s.expect(b"help(Pin)\r\r\nobject <class '__main__.Pin'> is of type type\r\n  level -- 1\r\n  name -- LED\r\n>>> ");
    s.send(b"help(Pin())\r");
    s.expect(b"help(Pin())\r\r\nobject <__main__.Pin object at ");
    s.until(b"> is of type Pin\r\n  level -- 1\r\n  name -- LED\r\n>>> ");
}

#[test]
fn history_recalls_earlier_lines_and_is_saved() {
    let mut s = Session::start("history", &[]);
    s.banner();
    s.send(b"1+1\r");
    s.expect(b"1+1\r\r\n2\r\n>>> ");
    s.send(b"2+2\r");
    s.expect(b"2+2\r\r\n4\r\n>>> ");
    s.send(b"\x1b[A");
    s.expect(b"2+2");
    s.send(b"\x1b[A");
    s.expect(b"\x08\x08\x081+1");
    s.send(b"\x1b[B\x1b[B");
    s.expect(b"\x08\x08\x082+2\x08\x08\x08\x1b[K");
    s.send(b"\x04");
    s.expect(b"\r\r\n");
    assert_eq!(s.status(), Some(0));
    let saved = std::fs::read_to_string(s.home.join(".microloop_history"));
    assert_eq!(saved.ok().as_deref(), Some("1+1\n2+2\n"));
}

#[test]
fn dash_i_keeps_the_scripts_globals() {
    let dir = std::env::temp_dir().join(format!("microloop-repl-{}-script", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let script = dir.join("setup.py");
    std::fs::write(&script, "answer = 42\nprint('ran')\n").expect("write script");
    let mut s = Session::start("dash-i", &["-i", script.to_str().expect("utf-8 path")]);
    s.expect(b"ran\r\n");
    s.banner();
    s.send(b"answer\r");
    s.expect(b"answer\r\r\n42\r\n>>> ");
    s.send(b"__name__\r");
    s.expect(b"__name__\r\r\n'__main__'\r\n>>> ");
    let _ = std::fs::remove_dir_all(&dir);
}
