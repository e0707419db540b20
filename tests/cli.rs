//! The command line, as tools written for MicroPython's unix port drive it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{MICROLOOP, microloop, microloop_c, run_with_limit};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write file");
}

#[test]
fn script_gets_argv_and_exit_status_zero() {
    let dir = scratch("argv");
    write(&dir, "args.py", "import sys\nprint(sys.argv)\n");
    let out = microloop(&["args.py", "one", "-x", "--two"], &dir);
    assert_eq!(out.stdout, "['args.py', 'one', '-x', '--two']\n");
    assert_eq!(out.code, Some(0));
}

#[test]
fn uncaught_exception_prints_traceback_and_exits_1() {
    let dir = scratch("uncaught");
    write(&dir, "boom.py", "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n");
    let out = microloop(&["boom.py"], &dir);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "before\n");
    assert_eq!(
        out.stderr,
        "Traceback (most recent call last):\n  File \"boom.py\", line 4, in <module>\n  File \"boom.py\", line 2, in f\nValueError: boom\n"
    );
}

#[test]
fn system_exit_code_becomes_the_exit_status() {
    assert_eq!(microloop_c("import sys; sys.exit(3)").code, Some(3));
    assert_eq!(microloop_c("import sys; sys.exit()").code, Some(0));
    let out = microloop_c("raise SystemExit('bye')");
    assert_eq!((out.code, out.stderr.as_str()), (Some(1), "bye\n"));
}

#[test]
fn syntax_error_names_file_and_line() {
    let dir = scratch("syntax");
    write(&dir, "bad.py", "x = 1\nif x\n    pass\n");
    let out = microloop(&["bad.py"], &dir);
    assert_eq!(out.code, Some(1));
    let mut lines = out.stderr.lines();
    assert_eq!(lines.next(), Some("Traceback (most recent call last):"));
    assert_eq!(lines.next(), Some("  File \"bad.py\", line 2"));
    assert!(lines.next().is_some_and(|l| l.starts_with("SyntaxError: ")), "{}", out.stderr);
}

#[test]
fn missing_script_is_reported() {
    let out = microloop(&["no_such_file.py"], &std::env::temp_dir());
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.starts_with("can't open file 'no_such_file.py'"), "{}", out.stderr);
}

#[test]
fn dash_c_runs_code_with_argv() {
    let out = microloop(&["-c", "import sys; print(sys.argv)", "a", "b"], &std::env::temp_dir());
    assert_eq!(out.stdout, "['-c', 'a', 'b']\n");
}

#[test]
fn script_directory_and_micropypath_are_on_sys_path() {
    let dir = scratch("paths");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    write(&dir.join("app"), "helper.py", "NAME = 'sibling'\n");
    write(&dir.join("lib"), "extra.py", "NAME = 'from MICROPYPATH'\n");
    write(&dir.join("app"), "main.py", "import helper, extra\nprint(helper.NAME, '/', extra.NAME)\n");
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg("app/main.py").current_dir(&dir).env("MICROPYPATH", dir.join("lib"));
    let out = run_with_limit(cmd, b"", Duration::from_secs(60));
    assert_eq!(out.stdout, "sibling / from MICROPYPATH\n", "{}", out.stderr);
}

/// `.frozen` on sys.path is where the built-in modules are searched, as on MicroPython: a
/// module in the script's directory (before it) wins over the built-in one of the same name,
/// a module in a library directory (after it) does not, unless it extends one of the
/// built-in modules MicroPython lets Python code extend (`json`), which any directory on
/// sys.path does; a submodule of a built-in package is still found.
#[test]
fn script_directory_wins_over_built_in_modules_and_libraries_extend_some() {
    let dir = scratch("frozen");
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    write(&dir.join("app"), "sched.py", "NAME = 'local sched'\n");
    write(&dir.join("lib"), "asyncio.py", "NAME = 'lib asyncio'\n");
    write(&dir.join("lib"), "json.py", "from json import *\nNAME = 'lib json'\n");
    write(
        &dir.join("app"),
        "main.py",
        "import sched, asyncio, json, json.decoder, ujson, sys\n\
         print(sched.NAME, hasattr(asyncio, 'NAME'), json.NAME, json.dumps([1]), ujson is json, sys.path[1:])\n",
    );
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg("app/main.py").current_dir(&dir).env("MICROPYPATH", format!(".frozen:{}", dir.join("lib").display()));
    let out = run_with_limit(cmd, b"", Duration::from_secs(60));
    let expected = format!("local sched False lib json [1] False ['.frozen', '{}']\n", dir.join("lib").display());
    assert_eq!(out.stdout, expected, "{}", out.stderr);
}

/// A file extending a built-in module, as micropython-lib's do and MicroPython's
/// documentation shows: importing its own name while it runs (after clearing sys.path, or as
/// the `u` name) gives the built-in module; afterwards the name is the extension, the `u` name
/// still the built-in. Printed as MicroPython prints it.
#[test]
fn a_file_extends_a_built_in_module_as_on_micropython() {
    let dir = scratch("extend");
    write(
        &dir,
        "time.py",
        "import sys\n_path = sys.path\nsys.path = ()\ntry:\n    from time import *\nfinally:\n    sys.path = _path\n\
         import utime\n\ndef extra():\n    return 'extra'\n\nprint('extending', utime.ticks_diff(2, 1))\n",
    );
    write(
        &dir,
        "main.py",
        "import time, utime\nprint(time.extra(), time.ticks_add(1, 1), utime is time, hasattr(utime, 'extra'))\n",
    );
    let expected = "extending 1\nextra 2 False False\n";
    assert_eq!(microloop(&["main.py"], &dir).stdout, expected);
    let mut cmd = Command::new(common::micropython());
    cmd.arg("main.py").current_dir(&dir);
    assert_eq!(run_with_limit(cmd, b"", Duration::from_secs(60)).stdout, expected);
}

/// A package in a directory before `.frozen` that has the name of a built-in one
/// (micropython-lib's `unittest`) is the one `-m` runs, with its own submodules.
#[test]
fn dash_m_runs_a_local_package_that_shadows_a_built_in_one() {
    let dir = scratch("shadow-package");
    std::fs::create_dir_all(dir.join("lib/unittest")).unwrap();
    write(&dir.join("lib/unittest"), "__init__.py", "print('local package')\n");
    write(&dir.join("lib/unittest"), "__main__.py", "from . import runner\nprint('local main', __name__, runner.NAME)\n");
    write(&dir.join("lib/unittest"), "runner.py", "NAME = 'local runner'\n");
    let expected = "local package\nlocal main __main__ local runner\n";
    for program in [PathBuf::from(MICROLOOP), common::micropython()] {
        let mut cmd = Command::new(&program);
        cmd.args(["-m", "unittest"]).current_dir(&dir).env("MICROPYPATH", "lib:.frozen");
        let out = run_with_limit(cmd, b"", Duration::from_secs(60));
        assert_eq!(out.stdout, expected, "{program:?}: {}", out.stderr);
    }
}

/// The compiler's SyntaxWarnings (an invalid escape, `return` in `finally`) are not printed:
/// MicroPython prints no warnings, and libraries that have them would fill stderr at every
/// import. The same script under MicroPython prints the same, with nothing on stderr.
#[test]
fn syntax_warnings_are_not_printed() {
    let dir = scratch("syntax-warnings");
    write(&dir, "warn.py", "s = \"a\\]\"\n\ndef f():\n    try:\n        return 1\n    finally:\n        return 2\n\nprint(s, f())\n");
    for program in [PathBuf::from(MICROLOOP), common::micropython()] {
        let mut cmd = Command::new(&program);
        cmd.arg("warn.py").current_dir(&dir);
        let out = run_with_limit(cmd, b"", Duration::from_secs(60));
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("a\\] 2\n", ""), "{program:?}");
    }
}

#[test]
fn dash_m_runs_a_module_as_main() {
    let dir = scratch("module");
    write(&dir, "tool.py", "import sys\nprint(__name__, sys.argv[1:])\n");
    let mut cmd = Command::new(MICROLOOP);
    cmd.args(["-m", "tool", "x"]).current_dir(&dir).env("MICROPYPATH", &dir);
    let out = run_with_limit(cmd, b"", Duration::from_secs(60));
    assert_eq!(out.stdout, "__main__ ['x']\n", "{}", out.stderr);
}

#[test]
fn micropython_x_options_are_accepted() {
    let out = microloop(
        &["-X", "heapsize=1M", "-X", "emit=native", "-X", "realtime", "-c", "print('ok')"],
        &std::env::temp_dir(),
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "ok\n"));
}

#[test]
fn version_and_help() {
    let out = microloop(&["--version"], &std::env::temp_dir());
    assert!(out.stdout.starts_with("microloop 0."), "{}", out.stdout);
    let out = microloop(&["-h"], &std::env::temp_dir());
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("-c <CODE>") && out.stdout.contains("-m <MODULE>"), "{}", out.stdout);
}

#[test]
fn program_read_from_stdin_when_not_a_terminal() {
    let cmd = Command::new(MICROLOOP);
    let out = run_with_limit(cmd, b"import uasyncio\nprint(uasyncio.__name__)\n", Duration::from_secs(60));
    assert_eq!(out.stdout, "asyncio\n");
}

/// A program talking to microloop through pipes, one line at a time, must get each answer
/// before it sends the next line: stdout is not block-buffered.
#[test]
fn each_printed_line_reaches_a_pipe_at_once() {
    let dir = scratch("pipe");
    write(&dir, "echo.py", "import sys\nwhile True:\n    line = sys.stdin.readline()\n    if not line:\n        break\n    print('got', line.strip())\n");
    let mut child = Command::new(MICROLOOP)
        .arg("echo.py")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start microloop");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("utf-8 line")).is_err() {
                break;
            }
        }
    });
    for word in ["one", "two", "three"] {
        writeln!(stdin, "{word}").unwrap();
        stdin.flush().unwrap();
        // Generous limit: it only turns a hang (a buffered reply) into a failure.
        let reply = rx.recv_timeout(Duration::from_secs(20)).expect("reply before the next line");
        assert_eq!(reply, format!("got {word}"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn unretrieved_task_exception_goes_to_stderr_in_micropython_form() {
    let code = "import asyncio\nasync def bad():\n    raise ValueError('lost')\nasync def main():\n    asyncio.create_task(bad())\n    await asyncio.sleep(0.01)\n    print('main done')\nasyncio.run(main())\n";
    let dir = scratch("handler");
    write(&dir, "lost.py", code);
    let out = microloop(&["lost.py"], &dir);
    assert_eq!(out.stdout, "main done\n");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines[0], "Task exception wasn't retrieved");
    assert!(lines[1].starts_with("future: <Task> coro= <coroutine object"), "{}", out.stderr);
    assert_eq!(lines[2], "Traceback (most recent call last):");
    assert_eq!(lines[3], "  File \"lost.py\", line 3, in bad");
    assert_eq!(lines[4], "ValueError: lost");
    assert_eq!(out.code, Some(0));
}

/// An idle loop sleeps in the poller: a one-second `asyncio.sleep` must cost almost no CPU.
/// The bound (0.3 s of CPU for 1 s of sleep, start-up included) is wide on purpose: a busy
/// loop would burn the whole second.
#[test]
fn sleeping_costs_no_cpu() {
    // Reaped below by wait4, which also reports the child's CPU time.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(MICROLOOP)
        .args(["-c", "import asyncio\nasyncio.run(asyncio.sleep(1))\nprint('woke')"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start microloop");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid is valid until it is reaped here.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    assert!(cpu < 0.3, "sleeping for 1 s used {cpu:.3} s of CPU");
}

#[test]
fn unknown_options_get_micropythons_error_and_status_1() {
    for args in [&["-z"][..], &["--foo"], &["-"], &["-c"], &["-m"], &["-X"], &["-vz", "-c", "1"]] {
        let out = microloop(args, &std::env::temp_dir());
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(1), "", "Invalid command line arguments. Use -h option for help.\n"),
            "{args:?}"
        );
    }
}

/// As with MicroPython, what follows `-c CODE` or `-m MODULE` is the program's, options too.
#[test]
fn arguments_after_dash_c_are_the_programs() {
    let out = microloop(&["-c", "import sys; print(sys.argv)", "-i", "-z", "x"], &std::env::temp_dir());
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "['-c', '-i', '-z', 'x']\n"), "{}", out.stderr);
}

/// Starts `microloop -c CODE`, waits for its first line (the program is then running),
/// sends it SIGINT and returns its exit status and stderr.
fn interrupt_after_first_line(code: &str) -> (Option<i32>, String) {
    let mut child = Command::new(MICROLOOP)
        .args(["-c", code])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start microloop");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("first line");
    assert_eq!(first, "ready\n");
    // SAFETY: signals our own child, which has not been reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_timeout::ChildExt::wait_timeout(&mut child, Duration::from_secs(20)).expect("wait");
    let Some(status) = status else {
        let _ = child.kill();
        panic!("microloop did not stop on SIGINT");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr");
    (status.code(), stderr)
}

#[test]
fn an_interrupted_script_exits_with_130() {
    // One line, so that the traceback does not depend on where the signal lands.
    let (code, stderr) = interrupt_after_first_line("import time\nprint('ready'); time.sleep(20)\n");
    assert_eq!(code, Some(130));
    assert_eq!(stderr, "Traceback (most recent call last):\n  File \"<stdin>\", line 2, in <module>\nKeyboardInterrupt: \n");
    let (code, stderr) = interrupt_after_first_line(
        "import asyncio\nasync def main():\n    print('ready')\n    await asyncio.sleep(20)\nasyncio.run(main())\n",
    );
    assert_eq!(code, Some(130));
    assert!(stderr.ends_with("KeyboardInterrupt: \n"), "{stderr}");
    // A thread spinning without end, the main thread waiting for a lock only that thread
    // could release: the signal still reaches the main thread.
    let (code, stderr) = interrupt_after_first_line(
        "import _thread\ndef spin():\n    while True:\n        pass\n_thread.start_new_thread(spin, ())\n\
         lock = _thread.allocate_lock()\nlock.acquire()\nprint('ready'); lock.acquire()\n",
    );
    assert_eq!(code, Some(130));
    assert!(stderr.ends_with("KeyboardInterrupt: \n"), "{stderr}");
    // As on MicroPython, any uncaught KeyboardInterrupt, of a subclass too.
    assert_eq!(microloop_c("raise KeyboardInterrupt").code, Some(130));
    assert_eq!(microloop_c("class K(KeyboardInterrupt): pass\nraise K").code, Some(130));
}

#[test]
fn dash_m_names_the_module_it_cannot_run() {
    let out = microloop(&["-m", "asyncio"], &std::env::temp_dir());
    assert_eq!((out.code, out.stderr.as_str()), (Some(1), "ImportError: no module named 'asyncio.__main__'\n"));
    let out = microloop(&["-m", "no_such_module"], &std::env::temp_dir());
    assert_eq!((out.code, out.stderr.as_str()), (Some(1), "ImportError: no module named 'no_such_module'\n"));
    // A module built in has no code to run: imported, nothing more, as on MicroPython.
    let out = microloop(&["-m", "time"], &std::env::temp_dir());
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (Some(0), "", ""));
    let dir = scratch("package");
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    write(&dir.join("pkg"), "__init__.py", "print('init')\n");
    let mut cmd = Command::new(MICROLOOP);
    cmd.args(["-m", "pkg"]).current_dir(&dir).env("MICROPYPATH", &dir);
    let out = run_with_limit(cmd, b"", Duration::from_secs(60));
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (Some(1), "init\n", "ImportError: no module named 'pkg.__main__'\n"));
}

/// `-i` enters the REPL after the program whatever standard input is, in the program's
/// namespace; at the end of input it stops.
#[test]
fn dash_i_reads_the_repl_from_a_pipe_too() {
    let mut cmd = Command::new(MICROLOOP);
    cmd.args(["-i", "-c", "answer = 42"]);
    let out = run_with_limit(cmd, b"print(answer)\n", Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.ends_with(">>> print(answer)\r\n42\n>>> \r\n"), "{:?}", out.stdout);
}
