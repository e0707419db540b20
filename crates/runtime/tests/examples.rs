//! Runs the embedding examples in `crates/runtime/examples/` as a user would, and checks what
//! they print. `cargo test` builds the examples next to the test binaries.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs the example `name`, built by cargo in `target/<profile>/examples/`.
fn run_example(name: &str) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/examples-<hash> -> target/<profile>/examples/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target directory");
    let path: PathBuf = dir.join("examples").join(name);
    Command::new(&path).output().unwrap_or_else(|e| panic!("{}: {e} (cargo test builds the examples)", path.display()))
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[test]
fn blink_host_logs_every_led_change_from_its_own_backend() {
    let text = stdout(&run_example("blink_host"));
    let lines: Vec<&str> = text.lines().collect();
    // Every edge of both LEDs on virtual time: LED1 on every 705 ms, LED2 every 405 ms, each
    // for 5 ms, over 10 s.
    let mut expect = Vec::new();
    for (led, period) in [(1, 705u64), (2, 405)] {
        for start in (0..10_000).step_by(period as usize) {
            expect.push((start, led, 0, "on"));
            expect.push((start + 5, led, 1, "off"));
        }
    }
    expect.sort_by_key(|&(t, led, order, _)| (t, order, led));
    let expect: Vec<String> = expect.iter().map(|(t, led, _, s)| format!("{:>9.3} ms  LED{led} {s}", *t as f64)).collect();
    assert_eq!(&lines[..lines.len() - 1], expect.as_slice());
    assert_eq!(lines[lines.len() - 1], "80 changes in 10 s of virtual time: LED1 pulsed 15 times, LED2 25 times");
}

#[test]
fn sensor_host_completes_async_reads_from_its_worker_thread() {
    let text = stdout(&run_example("sensor_host"));
    assert_eq!(
        text,
        "unit: degC\nchannel 0: 20.0\nchannels 1 and 2: [20.5, 21.0]\nchannel 7: no channel 7\nheartbeat ran while waiting: True\n"
    );
}

#[test]
fn timed_stop_runs_a_forever_script_for_two_seconds_and_stops_it_cleanly() {
    let start = Instant::now();
    let text = stdout(&run_example("timed_stop"));
    let took = start.elapsed();
    // Stopped by the host at 2 s, well before the 3 s deadline behind it (0.9 s of room for a
    // loaded machine).
    assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2900), "{took:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // A tick every 100 ms for 2 s is 19 or 20 ticks (the 20th falls on the stop); lateness
    // only ever lowers the count, and 10 allows for a machine twice as slow as it should be.
    let ticks: u32 = lines[0]
        .strip_prefix("stopped after ")
        .and_then(|r| r.strip_suffix(" ticks; cleaned up"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines[0]));
    assert!((10..=20).contains(&ticks), "{ticks}");
    assert!(lines[1].starts_with("the script stopped cleanly after 2."), "{}", lines[1]);
}
