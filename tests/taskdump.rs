//! The task monitor end to end: `micropython.task_info()`, `-X taskdump` at the end of a run,
//! and SIGUSR1 sent to a running microloop, each printing every pending task, what it waits
//! on and where its Python code is. Deadlines are exact under `--virtual-time`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{MICROLOOP, Output, run_with_limit};

/// The repository, where `examples/` is.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory holding one script, `name`, with `source`.
fn scratch(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-taskdump-{}-{}", std::process::id(), name.trim_end_matches(".py")));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join(name), source).expect("write script");
    dir
}

/// Runs `microloop ARGS` in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(MICROLOOP);
    cmd.args(args).current_dir(dir);
    run_with_limit(cmd, b"", Duration::from_secs(60))
}

/// The tasks of `examples/task_dump.py` other than main, as both of its dumps show them.
const EXAMPLE_TASKS: &str = "\
Task-2 (sleeper): sleep, wakes in 1400 ms
  File \"examples/task_dump.py\", line 15, in sleeper
  File \"examples/task_dump.py\", line 11, in nap
Task-3 (waiter): Event.wait
  File \"examples/task_dump.py\", line 19, in waiter
Task-4 (locker): Lock.acquire
  File \"examples/task_dump.py\", line 23, in locker
Task-5 (flagged): ThreadSafeFlag.wait
  File \"examples/task_dump.py\", line 28, in flagged
Task-6 (reader): stream read
  File \"examples/task_dump.py\", line 32, in reader
Task-7 (writer): stream write
  File \"examples/task_dump.py\", line 37, in writer
Task-8 (follower): awaits Task-2 (sleeper)
  File \"examples/task_dump.py\", line 41, in follower
Task-9 (group): gather, awaits Task-11 (nap), Task-12 (waiter)
  File \"examples/task_dump.py\", line 45, in group
Task-10 (guarded): wait_for, times out in 4900 ms
  File \"examples/task_dump.py\", line 49, in guarded
Task-11 (nap): sleep, wakes in 1900 ms
  File \"examples/task_dump.py\", line 11, in nap
Task-12 (waiter): Event.wait
  File \"examples/task_dump.py\", line 19, in waiter
Task-13 (waiter): Event.wait
  File \"examples/task_dump.py\", line 19, in waiter
";

/// The example parks a task on each kind of wait (a sleep two coroutines deep, an Event, a
/// Lock, a ThreadSafeFlag, a stream read from a loopback connection it made itself, a stream
/// write nobody reads, another task, a gather, a wait_for), then main calls
/// `micropython.task_info()` (stdout) and returns: `-X taskdump` shows the rest on stderr.
#[test]
fn task_info_and_taskdump_show_every_kind_of_wait() {
    let out = run_in(&root(), &["--virtual-time", "-X", "taskdump", "examples/task_dump.py"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let running = "Task-1 (main): running\n  File \"examples/task_dump.py\", line 72, in main\n";
    assert_eq!(out.stdout, format!("microloop: 13 tasks pending\n{running}{EXAMPLE_TASKS}"));
    assert_eq!(out.stderr, format!("microloop: the run ended with 12 tasks pending\n{EXAMPLE_TASKS}"));
    // Without the option, the end of the run prints nothing.
    let out = run_in(&root(), &["--virtual-time", "examples/task_dump.py"]);
    assert_eq!((out.code, out.stderr.as_str()), (Some(0), ""));
}

/// What else a dump says: a task not started yet, one with a cancellation pending, one
/// suspended by a bare `yield`. A task that nothing references and nothing can wake is dropped
/// and leaves the list; outside a loop nothing is pending.
#[test]
fn task_info_shows_ready_cancelled_and_suspended_tasks() {
    let dir = scratch(
        "states.py",
        "\
import asyncio
import micropython


async def idle():
    await asyncio.sleep(5)


def bare():
    yield


async def main():
    asyncio.create_task(idle())
    cancelled = asyncio.create_task(idle())
    stuck = asyncio.create_task(bare())
    asyncio.create_task(bare())
    await asyncio.sleep(0)
    cancelled.cancel()
    asyncio.create_task(idle())
    micropython.task_info()


micropython.task_info()
asyncio.run(main())
",
    );
    let out = run_in(&dir, &["--virtual-time", "states.py"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "microloop: no tasks pending\n\
microloop: 5 tasks pending\n\
Task-1 (main): running\n  File \"states.py\", line 21, in main\n\
Task-2 (idle): sleep, wakes in 5000 ms\n  File \"states.py\", line 6, in idle\n\
Task-3 (idle): ready to run, cancellation pending\n  File \"states.py\", line 6, in idle\n\
Task-4 (bare): suspended by a bare yield (runs when something queues it)\n  File \"states.py\", line 10, in bare\n\
Task-6 (idle): ready to run\n  File \"states.py\", line 5, in idle\n"
    );
}

/// An exception that ends the run prints its traceback, then the tasks left pending.
#[test]
fn taskdump_follows_the_traceback_of_a_failed_run() {
    let dir = scratch(
        "fails.py",
        "\
import asyncio

async def sleeper():
    await asyncio.sleep(10)

async def main():
    asyncio.create_task(sleeper())
    await asyncio.sleep_ms(250)
    raise ValueError('boom')

asyncio.run(main())
",
    );
    let out = run_in(&dir, &["--virtual-time", "-X", "taskdump", "fails.py"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "Traceback (most recent call last):\n  File \"fails.py\", line 11, in <module>\n  File \"fails.py\", line 9, in main\n\
ValueError: boom\nmicroloop: the run ended with 1 task pending\n\
Task-2 (sleeper): sleep, wakes in 9750 ms\n  File \"fails.py\", line 4, in sleeper\n"
    );
    // A run that leaves nothing pending prints nothing more.
    let dir = scratch("clean.py", "import asyncio\n\nasync def main():\n    await asyncio.sleep(0)\n\nasyncio.run(main())\nprint('ok')\n");
    let out = run_in(&dir, &["-X", "taskdump", "clean.py"]);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (Some(0), "ok\n", ""));
}

/// The list stays right through thousands of tasks finishing, and dropped while pending, in
/// every order: `all_tasks()` is exactly the tasks still referenced, and the running one.
#[test]
fn all_tasks_follows_tasks_that_finish_and_tasks_that_are_dropped() {
    let dir = scratch(
        "churn.py",
        "\
import asyncio
import random


def bare():
    yield


async def quick():
    pass


async def main():
    random.seed(7)
    keep = []
    for i in range(3000):
        r = random.random()
        if r < 0.3:
            keep.append(asyncio.create_task(bare()))
        elif r < 0.6:
            asyncio.create_task(bare())
        else:
            asyncio.create_task(quick())
        if i % 97 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(0)
    me = asyncio.current_task()
    print(asyncio.all_tasks() == set(keep) | {me})
    random.shuffle(keep)
    while keep:
        del keep[: random.randrange(1, 50)]
        if asyncio.all_tasks() != set(keep) | {me}:
            print('wrong with', len(keep), 'left')
    print(asyncio.all_tasks() == {me})


asyncio.run(main())
",
    );
    let out = run_in(&dir, &["churn.py"]);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (Some(0), "True\nTrue\n", ""));
}

/// A running microloop with stdin piped, its stdout and stderr read line by line.
struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Running {
    fn start(dir: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(MICROLOOP)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start microloop");
        let lines = |stream: Box<dyn Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().expect("stdout")));
        let stderr = lines(Box::new(child.stderr.take().expect("stderr")));
        Running { child, stdout, stderr }
    }

    /// The next `n` lines of `from`; panics (after killing the child) if they do not come.
    fn lines(&mut self, n: usize, stdout: bool) -> Vec<String> {
        let mut got = Vec::new();
        while got.len() < n {
            let rx = if stdout { &self.stdout } else { &self.stderr };
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => got.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("expected {n} lines, got {got:?}");
                }
            }
        }
        got
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signals our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Sends `line` to stdin, closes it, and waits for the exit status; the rest of stdout
    /// and stderr.
    fn finish(mut self, line: &str) -> (Option<i32>, Vec<String>, Vec<String>) {
        let mut stdin = self.child.stdin.take().expect("stdin");
        stdin.write_all(line.as_bytes()).expect("write stdin");
        drop(stdin);
        let status = wait_timeout::ChildExt::wait_timeout(&mut self.child, Duration::from_secs(30)).expect("wait");
        let Some(status) = status else {
            let _ = self.child.kill();
            panic!("microloop did not finish");
        };
        (status.code(), self.stdout.iter().collect(), self.stderr.iter().collect())
    }
}

/// SIGUSR1 while the loop sleeps in the poller: the dump comes at once, on stderr, and the
/// script goes on. The script says "ready" from a task that parks in the same step, so every
/// task is parked when the signal can be taken in.
#[test]
fn sigusr1_dumps_the_tasks_of_a_sleeping_loop() {
    let dir = scratch(
        "asleep.py",
        "\
import asyncio
import sys


async def announce(event):
    for _ in range(3):
        await asyncio.sleep(0)
    print('ready')
    await event.wait()


async def main():
    event = asyncio.Event()
    asyncio.create_task(announce(event))
    line = await asyncio.StreamReader(sys.stdin).readline()
    event.set()
    print('got', line)


asyncio.run(main())
",
    );
    let mut run = Running::start(&dir, &["asleep.py"]);
    assert_eq!(run.lines(1, true), ["ready"]);
    run.signal(libc::SIGUSR1);
    let expected = [
        "microloop: 2 tasks pending",
        "Task-1 (main): stream read",
        "  File \"asleep.py\", line 15, in main",
        "Task-2 (announce): Event.wait",
        "  File \"asleep.py\", line 9, in announce",
    ];
    assert_eq!(run.lines(expected.len(), false), expected);
    // A second signal, a second dump.
    run.signal(libc::SIGUSR1);
    assert_eq!(run.lines(expected.len(), false), expected);
    let (code, stdout, stderr) = run.finish("bye\n");
    assert_eq!((code, stdout, stderr), (Some(0), vec!["got b'bye\\n'".to_owned()], vec![]));
}

/// SIGUSR1 while tasks keep the loop busy (it never sleeps): the dump comes between two steps.
#[test]
fn sigusr1_dumps_the_tasks_of_a_busy_loop() {
    let dir = scratch(
        "busy.py",
        "\
import asyncio
import sys


async def spin(state):
    while not state:
        await asyncio.sleep(0)


async def announce(event):
    for _ in range(3):
        await asyncio.sleep(0)
    print('ready')
    await event.wait()


async def main():
    state, event = [], asyncio.Event()
    asyncio.create_task(spin(state))
    asyncio.create_task(announce(event))
    state.append(await asyncio.StreamReader(sys.stdin).readline())
    event.set()


asyncio.run(main())
",
    );
    let mut run = Running::start(&dir, &["busy.py"]);
    assert_eq!(run.lines(1, true), ["ready"]);
    run.signal(libc::SIGUSR1);
    let expected = [
        "microloop: 3 tasks pending",
        "Task-1 (main): stream read",
        "  File \"busy.py\", line 21, in main",
        "Task-2 (spin): ready to run",
        "  File \"busy.py\", line 7, in spin",
        "Task-3 (announce): Event.wait",
        "  File \"busy.py\", line 14, in announce",
    ];
    assert_eq!(run.lines(expected.len(), false), expected);
    let (code, stdout, stderr) = run.finish("bye\n");
    assert_eq!((code, stdout, stderr), (Some(0), vec![], vec![]));
}
