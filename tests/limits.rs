//! Running out: memory exhaustion is a MemoryError with MicroPython's message and status (never
//! an abort or the OOM killer), `-X heapsize` is a limit checked as MicroPython's unix port
//! checks it, and a virtual clock that a script polls moves, so the script ends.

mod common;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{MICROLOOP, Output, micropython, run_with_limit};

fn scratch(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write script");
    path
}

fn run(program: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_with_limit(cmd, b"", Duration::from_secs(60))
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

/// What an interpreter printed and its status: the lines before any traceback, the last line
/// (the exception; traceback lines name each interpreter's own frames), status. Output is read
/// as one stream, since the MicroPython of PyPI's package prints tracebacks on stdout where the
/// unix port and microloop use stderr.
fn outcome(o: &Output) -> (String, String, Option<i32>) {
    let all = format!("{}{}", o.stdout, o.stderr);
    let before = all.split("Traceback (most recent call last):").next().unwrap_or("").to_owned();
    (before, last_line(&all).to_owned(), o.code)
}

#[test]
fn a_huge_repeat_is_memory_error_as_on_micropython() {
    // 8 TB: more than any machine gives, so refused outright whatever the limit.
    let script = scratch("repeat.py", "print('start')\nx = [0] * 10**12\nprint('not reached')\n");
    let script = script.to_str().unwrap();
    let ours = run(MICROLOOP, &[script]);
    assert_eq!(
        outcome(&ours),
        ("start\n".to_owned(), "MemoryError: memory allocation failed, allocating 8000000000000 bytes".to_owned(), Some(1)),
        "stderr: {}",
        ours.stderr
    );
    let theirs = run(micropython().to_str().unwrap(), &[script]);
    assert_eq!(outcome(&ours), outcome(&theirs));
}

#[test]
fn heapsize_limits_the_program_and_it_carries_on_after_memory_error() {
    let script = scratch(
        "fill.py",
        "keep = []\n\
         try:\n    while True:\n        keep.append(bytearray(1000))\nexcept MemoryError as e:\n    \
         print('caught', type(e).__name__, len(keep) > 100)\n\
         keep = None\n\
         again = [bytearray(1000) for _ in range(100)]\n\
         print('after', len(again))\n",
    );
    let script = script.to_str().unwrap();
    let ours = run(MICROLOOP, &["-X", "heapsize=1M", script]);
    assert_eq!(ours.stdout, "caught MemoryError True\nafter 100\n", "stderr: {}", ours.stderr);
    assert_eq!(ours.code, Some(0));
    let theirs = run(micropython().to_str().unwrap(), &["-X", "heapsize=1M", script]);
    assert_eq!(outcome(&ours), outcome(&theirs));
}

#[test]
fn past_the_limit_every_allocation_fails_until_the_program_lets_go() {
    // The program keeps what it made: each round must fail again, as on MicroPython.
    let script = scratch(
        "again.py",
        "keep = []\nfor r in range(3):\n    try:\n        while True:\n            \
         keep.append(str(len(keep)) * 3)\n    except MemoryError:\n        print('round', r, 'MemoryError')\n",
    );
    let script = script.to_str().unwrap();
    let ours = run(MICROLOOP, &["-X", "heapsize=1M", script]);
    assert_eq!(ours.stdout, "round 0 MemoryError\nround 1 MemoryError\nround 2 MemoryError\n", "{}", ours.stderr);
    let theirs = run(micropython().to_str().unwrap(), &["-X", "heapsize=1M", script]);
    assert_eq!(outcome(&ours), outcome(&theirs));
}

#[test]
fn big_requests_the_vm_cannot_refuse_are_memory_error_too() {
    // Each of these asks the allocator for a big block where the VM has no try_reserve: it is
    // given, and the MemoryError comes before the next instruction.
    for code in [
        "'{:>100000000}'.format(1)",
        "'%100000000d' % 1",
        "repr(b'x' * 10**6)",
        "set(range(10**6))",
    ] {
        let script = scratch("big.py", &format!("try:\n    x = {code}\nexcept MemoryError:\n    print('MemoryError')\n"));
        let o = run(MICROLOOP, &["-X", "heapsize=1M", script.to_str().unwrap()]);
        assert_eq!((o.stdout.as_str(), o.code), ("MemoryError\n", Some(0)), "{code}: {}", o.stderr);
    }
}

#[test]
fn heapsize_values_are_checked_as_micropython_checks_them() {
    let script = scratch("hello.py", "print('hello')\n");
    let script = script.to_str().unwrap();
    let mp = micropython();
    // 700, the smallest size accepted, is left out: MicroPython starts and dies of it
    // ("FATAL: uncaught NLR"); microloop runs the script.
    for value in ["abc", "100", "699", "1w", "10G", "", "-5", "2MK", "100K", "2M", "4wK", "1m"] {
        let opt = format!("heapsize={value}");
        let ours = run(MICROLOOP, &["-X", &opt, script]);
        let theirs = run(mp.to_str().unwrap(), &["-X", &opt, script]);
        assert_eq!((&ours.stdout, &ours.stderr, ours.code), (&theirs.stdout, &theirs.stderr, theirs.code), "-X {opt}");
    }
    for opt in ["emit=native", "emit=bytecode", "foo", "heapsize"] {
        let ours = run(MICROLOOP, &["-X", opt, script]);
        let theirs = run(mp.to_str().unwrap(), &["-X", opt, script]);
        assert_eq!((&ours.stdout, &ours.stderr, ours.code), (&theirs.stdout, &theirs.stderr, theirs.code), "-X {opt}");
    }
}

/// Runs `source` under an address-space limit of 1 GiB, as `ulimit -v` sets it.
fn under_address_limit(source: &str) -> Output {
    let script = scratch("grow.py", source);
    let mut cmd = Command::new(MICROLOOP);
    cmd.arg(&script);
    // SAFETY: setrlimit is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 1 << 30, rlim_max: 1 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    run_with_limit(cmd, b"", Duration::from_secs(60))
}

#[test]
fn growth_under_an_address_space_limit_is_memory_error_not_an_abort() {
    // A list that doubles in place (the growth a Vec cannot refuse), and many small objects.
    for source in [
        "x = [1]\nwhile True:\n    x.extend(x)\n",
        "x = []\nwhile True:\n    x.append(1)\n",
        "x = []\nwhile True:\n    x.append(bytearray(1000))\n",
        "x = {}\ni = 0\nwhile True:\n    x[i] = str(i)\n    i += 1\n",
    ] {
        let o = under_address_limit(source);
        assert_eq!(o.code, Some(1), "{source}: status {:?}, stderr {}", o.code, o.stderr);
        let last = last_line(&o.stderr);
        assert!(
            last.starts_with("MemoryError: memory allocation failed, allocating ") && last.ends_with(" bytes"),
            "{source}: {}",
            o.stderr
        );
    }
}

#[test]
fn a_polled_virtual_clock_moves_and_sleeps_stay_exact() {
    let script = scratch(
        "poll.py",
        "import asyncio, time\n\
         async def main():\n    \
             start = time.ticks_ms()\n    \
             deadline = time.ticks_add(start, 50)\n    \
             while time.ticks_diff(deadline, time.ticks_ms()) > 0:\n        \
                 await asyncio.sleep(0)\n    \
             print('polled', time.ticks_diff(time.ticks_ms(), start))\n    \
             await asyncio.sleep_ms(100)\n    \
             print('slept', time.ticks_diff(time.ticks_ms(), start))\n    \
             t = time.ticks_us()\n    \
             while time.ticks_diff(time.ticks_us(), t) < 20000:\n        \
                 pass\n    \
             print('spun', time.ticks_diff(time.ticks_ms(), start))\n\
         asyncio.run(main())\n",
    );
    let o = run(MICROLOOP, &["--virtual-time", script.to_str().unwrap()]);
    assert_eq!(o.stdout, "polled 50\nslept 150\nspun 170\n", "stderr: {}", o.stderr);
    assert_eq!(o.code, Some(0));
}

#[test]
fn many_tasks_reading_a_virtual_clock_once_each_do_not_move_it() {
    let script = scratch(
        "many.py",
        "import asyncio, time\n\
         async def t(out):\n    await asyncio.sleep_ms(10)\n    out.append(time.ticks_us())\n\
         async def main():\n    out = []\n    await asyncio.gather(*[t(out) for _ in range(300)])\n    \
         print(min(out), max(out))\n\
         asyncio.run(main())\n",
    );
    let o = run(MICROLOOP, &["--virtual-time", script.to_str().unwrap()]);
    assert_eq!(o.stdout, "10000 10000\n", "stderr: {}", o.stderr);
}

#[test]
fn a_port_out_of_range_is_taken_as_micropython_takes_it() {
    // MicroPython hands the port to getaddrinfo as text, which keeps its low 16 bits; an int
    // beyond a machine word is its OverflowError. No message names an implementation type.
    let script = scratch(
        "port.py",
        "import asyncio\n\
         async def main():\n    \
             server = await asyncio.start_server(lambda r, w: None, '127.0.0.1', 0)\n    \
             try:\n        await asyncio.open_connection('127.0.0.1', 2**70)\n    \
             except OverflowError as e:\n        print('OverflowError', e)\n    \
             server.close()\n\
         asyncio.run(main())\n",
    );
    let o = run(MICROLOOP, &[script.to_str().unwrap()]);
    assert_eq!(o.stdout, "OverflowError overflow converting long int to machine word\n", "{}", o.stderr);
}
