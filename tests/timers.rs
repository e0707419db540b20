//! `machine.Timer`, `pyb.Timer` and `machine.idle` on virtual time: expiries at exact
//! milliseconds, callbacks between task steps and during blocking sleeps, timers that wake a
//! waiting main task, and a script that ends with a timer running.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Output, microloop};

/// A fresh directory holding `script` as `t.py`.
fn scratch(name: &str, script: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-timers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    std::fs::write(dir.join("t.py"), script).expect("write the script");
    dir
}

fn run_virtual(name: &str, script: &str) -> Output {
    let dir = scratch(name, script);
    let out = microloop(&["--virtual-time", "--quiet-pins", "t.py"], &dir);
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    out
}

const PRELUDE: &str = "import time, asyncio, machine, pyb\nfrom machine import Timer\nT0 = time.ticks_ms()\n\
                       def now(): return time.ticks_diff(time.ticks_ms(), T0)\n";

#[test]
fn soft_timers_fire_at_their_periods_between_task_steps() {
    let script = format!(
        "{PRELUDE}{}",
        r#"
ev = asyncio.Event()
count = 0
def tick(t):
    global count
    count += 1
    print("tick", count, now())
    if count == 3:
        t.deinit()
        ev.set()

async def other():
    for _ in range(4):
        await asyncio.sleep_ms(70)
        print("task", now())

async def main():
    t = Timer(-1, period=100, callback=tick)
    Timer(mode=Timer.ONE_SHOT, period=150, callback=lambda t: print("one shot", now(), t))
    asyncio.create_task(other())
    await ev.wait()
    print("main woke", now())
    f = Timer(freq=20, callback=lambda t: print("freq", now()))
    print(f)
    await asyncio.sleep_ms(120)
    f.deinit()
    await asyncio.sleep_ms(100)
    print("end main", now(), count)

asyncio.run(main())
"#
    );
    let out = run_virtual("soft", &script);
    assert_eq!(
        out.stdout,
        "task 70\ntick 1 100\ntask 140\none shot 150 Timer(mode=ONE_SHOT, period=150)\ntick 2 200\ntask 210\n\
         task 280\ntick 3 300\nmain woke 300\nTimer(mode=PERIODIC, period=50)\nfreq 350\nfreq 400\nend main 520 3\n"
    );
}

#[test]
fn timers_fire_during_blocking_sleeps_and_idle() {
    let script = format!(
        "{PRELUDE}{}",
        r#"
hits = []
t = Timer(period=25, callback=lambda t: hits.append(now()))
time.sleep_ms(60)
print(hits)
while len(hits) < 5:
    machine.idle()
print(hits, now())
t.init(mode=Timer.ONE_SHOT, period=10)
time.sleep(0.05)
print(hits)
t.deinit()
"#
    );
    let out = run_virtual("sleep", &script);
    assert_eq!(out.stdout, "[25, 50]\n[25, 50, 75, 100, 125] 125\n[25, 50, 75, 100, 125, 135]\n");
}

#[test]
fn a_hard_callback_that_raises_stops_its_timer_and_a_soft_one_goes_on() {
    let script = format!(
        "{PRELUDE}{}",
        r#"
def bad(t):
    print("bad", now())
    raise ValueError("boom")
h = Timer(period=10, callback=bad, hard=True)
s = Timer(period=15, callback=bad)
time.sleep_ms(40)
s.deinit()
p = pyb.Timer(4, freq=50, callback=bad)
time.sleep_ms(50)
print(p)
"#
    );
    let out = run_virtual("hard", &script);
    assert_eq!(out.stdout, "bad 10\nbad 15\nbad 30\nbad 60\nTimer(4, freq=50, prescaler=27, period=59999, mode=UP, div=1)\n");
    assert_eq!(out.stderr.matches("Uncaught exception in IRQ callback handler\n").count(), 1, "{}", out.stderr);
    assert_eq!(out.stderr.matches("uncaught exception in Timer(4) interrupt handler\n").count(), 1, "{}", out.stderr);
    assert_eq!(out.stderr.matches("ValueError: boom").count(), 4, "{}", out.stderr);
}

#[test]
fn pyb_timers_divide_the_board_clock() {
    let script = format!(
        "{PRELUDE}{}",
        r#"
p = pyb.Timer(4, freq=10)
print(p, p.freq(), p.source_freq(), pyb.Timer(4) is p)
p.callback(lambda t: print("tick", now(), t.counter()))
time.sleep_ms(250)
p.callback(None)
time.sleep_ms(100)
p.freq(40)
p.callback(lambda t: print("fast", now()))
time.sleep_ms(60)
p.deinit()
print(p, pyb.Timer(1, prescaler=167, period=9999), pyb.Timer(1).source_freq())
"#
    );
    let out = run_virtual("pyb", &script);
    assert_eq!(
        out.stdout,
        "Timer(4, freq=10, prescaler=139, period=59999, mode=UP, div=1) 10 84000000 True\n\
         tick 100 0\ntick 200 0\nfast 375\nfast 400\nTimer(4) Timer(1, freq=100, prescaler=167, period=9999, mode=UP, div=1) 168000000\n"
    );
}

#[test]
fn a_running_timer_does_not_keep_the_process_alive() {
    // MicroPython's unix port exits when the script ends; so does microloop, whatever timers
    // still run (on a board they would go on in the REPL).
    let dir = scratch("exit", "from machine import Timer\nt = Timer(period=10, callback=lambda t: None)\nprint('end')\n");
    let start = Instant::now();
    let out = microloop(&["t.py"], &dir);
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), "end\n"), "{}", out.stderr);
    assert!(start.elapsed() < Duration::from_secs(5));
}
