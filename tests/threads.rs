//! `_thread` threads beside the asyncio loop, where the conformance suite cannot look: exact
//! timestamps under virtual time, and what a failing thread prints to stderr.

mod common;

use std::path::PathBuf;

use common::microloop;

/// A fresh directory holding `script` as `t.py`.
fn scratch(name: &str, script: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-threads-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    std::fs::write(dir.join("t.py"), script).expect("write the script");
    dir
}

/// Under virtual time, a thread's `time.sleep` and the loop's sleeping tasks share the clock:
/// each wakes at its exact deadline, in deadline order, and the clock jumps only when all wait.
#[test]
fn threads_and_tasks_share_virtual_time() {
    let script = r#"
import _thread, time, asyncio
t0 = time.ticks_ms()
def now():
    return time.ticks_diff(time.ticks_ms(), t0)
log = []
def sensor():
    for i in range(3):
        time.sleep(1)
        log.append(("thread", i, now()))
_thread.start_new_thread(sensor, ())
async def main():
    for i in range(4):
        await asyncio.sleep_ms(700)
        log.append(("task", i, now()))
asyncio.run(main())
time.sleep(0.5)
log.append(("main", now()))
for entry in log:
    print(*entry)
"#;
    let out = microloop(&["--virtual-time", "--quiet-pins", "t.py"], &scratch("virtual", script));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "task 0 700\nthread 0 1000\ntask 1 1400\nthread 1 2000\ntask 2 2100\ntask 3 2800\nthread 2 3000\nmain 3300\n"
    );
}

/// A thread's exception is printed to stderr as MicroPython prints it and ends that thread
/// only; the program's exit status stays 0.
#[test]
fn a_failing_thread_reports_on_stderr_and_the_program_goes_on() {
    let script = r#"
import _thread, time
def reader(path):
    open(path)
_thread.start_new_thread(reader, ("/nonexistent/x",))
time.sleep_ms(50)
print("main goes on")
"#;
    let out = microloop(&["t.py"], &scratch("fail", script));
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "main goes on\n"), "{}", out.stderr);
    let (head, rest) = out.stderr.split_once('\n').expect("two lines at least");
    assert!(head.starts_with("Unhandled exception in thread started by <function reader at 0x"), "{head}");
    assert_eq!(
        rest,
        "Traceback (most recent call last):\n  File \"t.py\", line 4, in reader\nOSError: [Errno 2] ENOENT\n"
    );
}
