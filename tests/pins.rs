//! The GPIO shim end to end: the blink example in both forms under virtual and real time, read
//! back from its VCD with an independent parser; input scripts under a stimulus; what stderr
//! shows; bad options and files.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::microloop;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("microloop-pins-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Each wire's changes as (time in µs, level) and the dump's last timestamp, read with the
/// `vcd` crate's parser.
fn read_vcd(path: &Path) -> (BTreeMap<String, Vec<(u64, bool)>>, u64) {
    let text = std::fs::read(path).expect("VCD written");
    let mut parser = vcd::Parser::new(&text[..]);
    let header = parser.parse_header().expect("VCD header");
    assert_eq!(header.timescale, Some((1, vcd::TimescaleUnit::US)));
    let mut names = BTreeMap::new();
    for item in &header.items {
        if let vcd::ScopeItem::Scope(scope) = item {
            for var in &scope.items {
                if let vcd::ScopeItem::Var(v) = var {
                    names.insert(v.code, v.reference.clone());
                }
            }
        }
    }
    let mut waves: BTreeMap<String, Vec<(u64, bool)>> = names.values().map(|n| (n.clone(), Vec::new())).collect();
    let mut t = 0;
    for command in parser {
        match command.expect("VCD command") {
            vcd::Command::Timestamp(ts) => t = ts,
            vcd::Command::ChangeScalar(code, value) => {
                let level = match value {
                    vcd::Value::V1 => true,
                    vcd::Value::V0 => false,
                    _ => continue,
                };
                waves.get_mut(&names[&code]).expect("declared wire").push((t, level));
            }
            _ => {}
        }
    }
    (waves, t)
}

/// What `blink(led, period_ms)` does over 10 s on an exact clock: on at 0, off 5 ms later, on
/// again `period_ms` after that.
fn ideal_blink(period_ms: u64) -> Vec<(u64, bool)> {
    let mut edges = Vec::new();
    let mut t = 0;
    while t < 10_000_000 {
        edges.push((t, true));
        edges.push((t + 5_000, false));
        t += (period_ms + 5) * 1000;
    }
    edges
}

fn check_virtual_blink(example: &str, wires: [&str; 2]) {
    let dir = scratch(example);
    let vcd = dir.join("blink.vcd");
    let started = Instant::now();
    let out = microloop(
        &["--virtual-time", "--vcd", vcd.to_str().unwrap(), root().join("examples").join(example).to_str().unwrap()],
        &dir,
    );
    let elapsed = started.elapsed();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // Ten virtual seconds take no real time to speak of: a generous 5 s bound, half of what
    // the wall clock would need.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let (waves, end) = read_vcd(&vcd);
    assert_eq!(waves.keys().collect::<Vec<_>>(), wires.iter().collect::<Vec<_>>());
    // LED 1: on for 5 ms every 705 ms; LED 2: every 405 ms; to the microsecond.
    assert_eq!(waves[wires[0]], ideal_blink(700));
    assert_eq!(waves[wires[1]], ideal_blink(400));
    assert_eq!(end, 10_000_000, "the dump runs to the end of main's 10 s sleep");
}

#[test]
fn blink_pyb_form_under_virtual_time_has_exact_edges() {
    check_virtual_blink("blink.py", ["LED1", "LED2"]);
}

#[test]
fn blink_machine_form_under_virtual_time_has_exact_edges() {
    check_virtual_blink("blink_pin.py", ["Pin1", "Pin2"]);
}

/// The same example on the wall clock, unchanged, for its full 10 s. Bounds: an edge can only
/// be late, never early; 50 ms of lateness per edge is far beyond what a loaded 2-core machine
/// shows and far below the 400 ms the periods differ by.
fn check_real_blink(example: &str, wires: [&str; 2]) {
    let dir = scratch(&format!("real-{example}"));
    let vcd = dir.join("blink.vcd");
    let out = microloop(
        &["--vcd", vcd.to_str().unwrap(), root().join("examples").join(example).to_str().unwrap()],
        &dir,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let (waves, end) = read_vcd(&vcd);
    assert!(end >= 10_000_000, "ran {end} us");
    for (wire, period_ms) in [(wires[0], 700u64), (wires[1], 400)] {
        let edges = &waves[wire];
        let ons: Vec<u64> = edges.iter().filter(|e| e.1).map(|e| e.0).collect();
        let offs: Vec<u64> = edges.iter().filter(|e| !e.1).map(|e| e.0).collect();
        let expected_ons = ideal_blink(period_ms).len() / 2;
        // The last on may fall just past the end if lateness piled up; allow one fewer.
        assert!(ons.len() == expected_ons || ons.len() == expected_ons - 1, "{wire}: {} ons", ons.len());
        for (i, on) in ons.iter().enumerate() {
            let off = offs.iter().find(|&&off| off > *on).expect("each on is followed by an off");
            let lit = off - on;
            assert!((5_000..55_000).contains(&lit), "{wire} on for {lit} us");
            if i > 0 {
                let period = on - ons[i - 1];
                let ideal = (period_ms + 5) * 1000;
                assert!((ideal..ideal + 100_000).contains(&period), "{wire} period {period} us");
            }
        }
    }
}

#[test]
fn blink_both_forms_on_the_wall_clock() {
    // Both 10 s runs at once, so the test costs 10 s, not 20.
    let pyb = std::thread::spawn(|| check_real_blink("blink.py", ["LED1", "LED2"]));
    check_real_blink("blink_pin.py", ["Pin1", "Pin2"]);
    pyb.join().expect("the pyb form passes too");
}

#[test]
fn button_example_under_its_stimulus() {
    let dir = scratch("button");
    let vcd = dir.join("button.vcd");
    let out = microloop(
        &[
            "--virtual-time",
            "--stimulus",
            root().join("examples/button.stim").to_str().unwrap(),
            "--vcd",
            vcd.to_str().unwrap(),
            root().join("examples/button_irq.py").to_str().unwrap(),
        ],
        &dir,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "press 1 at 100 ms: LED on\npress 2 at 400 ms: LED off\nglitch at 700 ms ignored\npress 3 at 1000 ms: LED on\ndone\n"
    );
    // stderr, not a terminal here, gets one plain line per change.
    assert_eq!(
        out.stderr,
        "0.000 Pin(5) 1\n0.000 Pin(25) 0\n0.100 Pin(5) 0\n0.120 Pin(25) 1\n0.180 Pin(5) 1\n\
         0.400 Pin(5) 0\n0.402 Pin(5) 1\n0.403 Pin(5) 0\n0.420 Pin(25) 0\n0.553 Pin(5) 1\n\
         0.700 Pin(5) 0\n0.703 Pin(5) 1\n1.000 Pin(5) 0\n1.020 Pin(25) 1\n"
    );
    let (waves, _) = read_vcd(&vcd);
    assert_eq!(waves["Pin25"], vec![(0, false), (120_000, true), (420_000, false), (1_020_000, true)]);
}

#[test]
fn button_example_on_the_wall_clock() {
    // Same presses in real time: the order and count are exact; times are the script's own
    // ticks, so only their order is checked.
    let dir = scratch("button-real");
    let out = microloop(
        &[
            "--quiet-pins",
            "--stimulus",
            root().join("examples/button.stim").to_str().unwrap(),
            root().join("examples/button_irq.py").to_str().unwrap(),
        ],
        &dir,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, "", "--quiet-pins shows nothing");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let prefixes = ["press 1 at ", "press 2 at ", "glitch at ", "press 3 at ", "done"];
    assert_eq!(lines.len(), prefixes.len(), "{}", out.stdout);
    for (line, prefix) in lines.iter().zip(prefixes) {
        assert!(line.starts_with(prefix), "{line:?} should start with {prefix:?}");
    }
    assert!(out.stdout.ends_with("LED on\ndone\n"));
}

#[test]
fn switch_callback_and_irq_flags_under_a_stimulus() {
    let dir = scratch("switch");
    std::fs::write(dir.join("s.stim"), "10ms switch = 1\n+5ms switch = 0\n30ms pin X1 = 1\n40ms pin X1 = 0\n").unwrap();
    std::fs::write(
        dir.join("s.py"),
        r#"
import asyncio, time, pyb
from machine import Pin
sw = pyb.Switch()
sw.callback(lambda: print("switch pressed at", time.ticks_ms(), "value", sw.value()))
p = Pin("X1", Pin.IN, Pin.PULL_DOWN)
irq = p.irq(lambda pin: print("irq", pin, "flags", irq.flags(), "at", time.ticks_ms()))
print(p.value(), sw(), irq.trigger())
async def main():
    await asyncio.sleep_ms(50)
    print(p.value(), sw())
asyncio.run(main())
"#,
    )
    .unwrap();
    let out = microloop(&["--virtual-time", "--quiet-pins", "--stimulus", "s.stim", "s.py"], &dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "0 False 12\nswitch pressed at 10 value True\nirq Pin('X1', mode=IN, pull=PULL_DOWN) flags 8 at 30\n\
         irq Pin('X1', mode=IN, pull=PULL_DOWN) flags 4 at 40\n0 False\n"
    );
}

#[test]
fn a_polling_script_sees_the_stimulus_during_blocking_sleeps() {
    // No asyncio: MicroPython's classic `while True: read; sleep_ms` loop.
    let dir = scratch("poll");
    std::fs::write(dir.join("p.stim"), "25ms pin 2 = 0\n47ms pin 2 = 1\n").unwrap();
    std::fs::write(
        dir.join("p.py"),
        "import time\nfrom machine import Pin\nb = Pin(2, Pin.IN, Pin.PULL_UP)\nlast = b()\n\
         for _ in range(10):\n    time.sleep_ms(10)\n    if b() != last:\n        last = b()\n        print(time.ticks_ms(), last)\n",
    )
    .unwrap();
    let out = microloop(&["--virtual-time", "--quiet-pins", "--stimulus", "p.stim", "p.py"], &dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "30 0\n50 1\n");
}

#[test]
fn a_failing_hard_irq_handler_is_reported_and_disabled() {
    let dir = scratch("hard");
    std::fs::write(dir.join("h.stim"), "1ms pin 3 = 1\n2ms pin 3 = 0\n3ms pin 3 = 1\n").unwrap();
    std::fs::write(
        dir.join("h.py"),
        "import asyncio\nfrom machine import Pin\ndef h(pin):\n    print('handler')\n    raise ValueError('boom')\n\
         Pin(3, Pin.IN).irq(h, Pin.IRQ_RISING, hard=True)\nasyncio.run(asyncio.sleep_ms(10))\nprint('still running')\n",
    )
    .unwrap();
    let out = microloop(&["--virtual-time", "--quiet-pins", "--stimulus", "h.stim", "h.py"], &dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "handler\nstill running\n");
    assert_eq!(
        out.stderr,
        "Uncaught exception in IRQ callback handler\nTraceback (most recent call last):\n  File \"h.py\", line 5, in h\nValueError: boom\n"
    );
}

#[test]
fn bad_stimulus_files_name_file_and_line() {
    let dir = scratch("badstim");
    std::fs::write(dir.join("bad.stim"), "10ms pin 1 = 1\n\n5 pin 1 = 0\n").unwrap();
    let out = microloop(&["--stimulus", "bad.stim", "-c", "print('never')"], &dir);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "microloop: bad.stim: line 3: time must be a number with a unit (us, ms or s), like `120ms`, not `5`\n"
    );
    let out = microloop(&["--stimulus", "missing.stim", "-c", "print('never')"], &dir);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.starts_with("microloop: cannot read missing.stim: "), "{}", out.stderr);
}

#[test]
fn gpio_mappings_are_checked_and_a_missing_chip_is_an_oserror() {
    let dir = scratch("gpio");
    let out = microloop(&["--gpio", "5=gpiochip0", "-c", "pass"], &dir);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("`5=gpiochip0`: expected ID=CHIP:OFFSET[:active-low], like `LED(1)=gpiochip0:17`"),
        "{}",
        out.stderr
    );
    let out = microloop(&["--gpio", "5=gpiochip0:1", "--stimulus", "x.stim", "-c", "pass"], &dir);
    assert_eq!(out.code, Some(2), "a stimulus drives the simulated board only");

    let code = "from machine import Pin\ntry:\n    Pin(6)\nexcept ValueError as e:\n    print(e)\n\
                try:\n    Pin(5).on()\nexcept OSError as e:\n    print('OSError', 'microloop-no-such-chip' in str(e))\n";
    let out = microloop(&["--gpio", "5=/dev/microloop-no-such-chip:1", "-c", code], &dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "invalid pin\nOSError True\n");
}

#[test]
fn svg_timing_diagram_is_written() {
    let dir = scratch("svg");
    let svg = dir.join("blink.svg");
    let out = microloop(
        &["--virtual-time", "--quiet-pins", "--svg", svg.to_str().unwrap(), root().join("examples/blink.py").to_str().unwrap()],
        &dir,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(text.contains(">microloop pin trace, 0 to 10000 ms</text>"));
    assert!(text.contains(">LED(1)</text>") && text.contains(">LED(2)</text>"));
    assert_eq!(text.matches("<polyline").count(), 2);
    // 1 s gridlines over 10 s.
    assert_eq!(text.matches("<line ").count(), 11);
}

#[test]
fn an_unwritable_trace_file_is_reported_and_fails_the_run() {
    let dir = scratch("unwritable");
    let out = microloop(&["--quiet-pins", "--vcd", "no/such/dir/x.vcd", "-c", "print('ran')"], &dir);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "ran\n");
    assert!(out.stderr.starts_with("microloop: cannot write no/such/dir/x.vcd: "), "{}", out.stderr);
}

#[test]
fn pin_lines_never_reach_stdout() {
    let dir = scratch("stdout");
    let out = microloop(
        &["--virtual-time", "-c", "from pyb import LED\nl = LED(3)\nl.on()\nprint('lit', l.intensity())\nl.intensity(40)\nprint(l.intensity())"],
        &dir,
    );
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, "lit 255\n40\n");
    assert_eq!(out.stderr, "0.000 LED(3) off\n0.000 LED(3) on\n");
}

#[test]
fn the_readmes_timing_diagrams_are_what_microloop_draws() {
    let dir = scratch("docs");
    let root = root();
    let runs: [(&str, &[&str]); 2] = [
        ("blink.svg", &["examples/blink.py"]),
        ("button.svg", &["--stimulus", "examples/button.stim", "examples/button_irq.py"]),
    ];
    for (name, args) in runs {
        let svg = dir.join(name);
        let mut all = vec!["--virtual-time", "--quiet-pins", "--svg", svg.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = microloop(&all, &root);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let drawn = std::fs::read_to_string(&svg).unwrap();
        let committed = std::fs::read_to_string(root.join("docs").join(name)).unwrap();
        assert!(drawn == committed, "docs/{name} is stale: regenerate it with microloop {}", all.join(" "));
    }
}
