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

/// A thread switched away from while it ran Python code under a lock of the VM's (the text
/// encoder under `print`, an iterator's Python `__getitem__`) holds the lock; another thread
/// that needs it lets the others run until it is free, as with a lock in CPython: two threads
/// printing, and stepping one iterator, lose no line and no item.
#[test]
fn a_thread_meeting_a_lock_another_holds_waits_for_it() {
    let script = r#"
import _thread, time
class Squares:
    def __getitem__(self, i):
        if i >= 20000:
            raise IndexError
        for _ in range(20):
            pass
        return i * i
shared = iter(Squares())
done = []
def consume(tag):
    n = 0
    for _ in shared:
        n += 1
    for i in range(3000):
        print(tag, i)
    done.append(n)
_thread.start_new_thread(consume, ("A",))
_thread.start_new_thread(consume, ("B",))
for i in range(3000):
    print("M", i)
while len(done) < 2:
    time.sleep_ms(1)
print("taken", sum(done))
"#;
    let out = microloop(&["t.py"], &scratch("locks", script));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"taken 20000"));
    for tag in ["A", "B", "M"] {
        let mine: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with(&format!("{tag} "))).collect();
        let want: Vec<String> = (0..3000).map(|i| format!("{tag} {i}")).collect();
        assert_eq!(mine, want, "{tag}'s lines, in order");
    }
    assert_eq!(lines.len(), 9001);
}

/// A thread may run an asyncio loop of its own while the main thread does not; under virtual
/// time too. While the main thread's loop runs, a thread's `asyncio.run` is refused.
#[test]
fn asyncio_run_in_a_thread() {
    let script = r#"
import _thread, time, asyncio
done = []
def in_thread():
    async def m():
        await asyncio.sleep(0.01)
        return 5
    try:
        done.append(asyncio.run(m()))
    except RuntimeError as e:
        done.append(str(e))
_thread.start_new_thread(in_thread, ())
while not done:
    time.sleep(0.01)
async def main():
    _thread.start_new_thread(in_thread, ())
    while len(done) < 2:
        await asyncio.sleep(0.01)
asyncio.run(main())
print(done)
"#;
    let want = "[5, 'the event loop is running in another thread']\n";
    for args in [&["t.py"][..], &["--virtual-time", "--quiet-pins", "t.py"][..]] {
        let out = microloop(args, &scratch("asyncio", script));
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), want), "{args:?}: {}", out.stderr);
    }
}
