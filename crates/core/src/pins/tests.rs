use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::*;
use crate::ManualClock;

fn bank(stimulus: &str) -> (Pins, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(0));
    let backend = SimBackend::new(Stimulus::parse(stimulus).unwrap());
    (Pins::new(Box::new(backend), clock.clone()), clock)
}

fn changes(pins: &Pins) -> Vec<(u64, String, bool)> {
    let t = pins.trace();
    t.changes.iter().map(|c| (c.t_us, t.signals[c.signal].id.to_string(), c.level)).collect()
}

#[test]
fn outputs_are_recorded_with_their_time() {
    let (mut pins, clock) = bank("");
    let led = pins.open(&PinId::Led(1)).unwrap();
    pins.configure(led, Some(Mode::Out), None, None).unwrap();
    pins.write(led, true).unwrap();
    clock.set(5_000);
    pins.write(led, false).unwrap();
    pins.write(led, false).unwrap();
    clock.set(705_000);
    pins.write(led, true).unwrap();
    assert_eq!(
        changes(&pins),
        vec![
            (0, "LED(1)".into(), false),
            (0, "LED(1)".into(), true),
            (5_000, "LED(1)".into(), false),
            (705_000, "LED(1)".into(), true),
        ]
    );
    assert!(pins.read(led).unwrap());
}

#[test]
fn a_pin_with_no_mode_becomes_an_output_when_written() {
    let (mut pins, _clock) = bank("");
    let p = pins.open(&PinId::Num(1)).unwrap();
    assert_eq!(pins.mode(p), None);
    pins.write(p, true).unwrap();
    assert_eq!(pins.mode(p), Some(Mode::Out));
    assert_eq!(changes(&pins), vec![(0, "Pin(1)".into(), true)]);
}

#[test]
fn an_input_keeps_the_latch_for_when_it_becomes_an_output() {
    let (mut pins, _clock) = bank("");
    let p = pins.open(&PinId::Name("X1".into())).unwrap();
    pins.configure(p, Some(Mode::In), Some(Pull::Up), None).unwrap();
    pins.write(p, false).unwrap();
    assert!(pins.read(p).unwrap(), "an input reads its pull, not its latch");
    pins.configure(p, Some(Mode::Out), None, None).unwrap();
    assert!(!pins.read(p).unwrap());
    assert_eq!(changes(&pins), vec![(0, "Pin('X1')".into(), true), (0, "Pin('X1')".into(), false)]);
}

#[test]
fn inputs_follow_pull_then_stimulus_and_fire_interrupts_on_selected_edges() {
    let (mut pins, clock) = bank("100ms pin 5 = 0\n+20ms pin 5 = 1\n300ms pin 5 = 0\n400ms pin 9 = 1\n");
    let p = pins.open(&PinId::Num(5)).unwrap();
    pins.configure(p, Some(Mode::In), Some(Pull::Up), None).unwrap();
    pins.set_irq(p, Edges { rising: false, falling: true }).unwrap();
    assert_eq!(pins.next_change_us(), Some(100_000));
    assert!(pins.may_interrupt());

    clock.set(99_999);
    pins.poll().unwrap();
    assert!(!pins.has_irqs());
    clock.set(150_000);
    pins.poll().unwrap();
    assert_eq!(pins.take_irqs(), vec![Irq { line: p, edge: Edges { rising: false, falling: true } }]);
    assert_eq!(pins.next_change_us(), Some(300_000));

    // A stimulus for a pin opened later is remembered.
    clock.set(1_000_000);
    pins.poll().unwrap();
    assert_eq!(pins.take_irqs().len(), 1);
    let q = pins.open(&PinId::Num(9)).unwrap();
    assert!(pins.read(q).unwrap());
    assert!(!pins.may_interrupt());
    // Stimulus changes carry their own time, even when taken in late.
    assert_eq!(
        changes(&pins),
        vec![
            (0, "Pin(5)".into(), true),
            (100_000, "Pin(5)".into(), false),
            (120_000, "Pin(5)".into(), true),
            (300_000, "Pin(5)".into(), false),
            (1_000_000, "Pin(9)".into(), true),
        ]
    );
}

#[test]
fn late_changes_never_go_before_recorded_ones() {
    let (mut pins, clock) = bank("100ms pin 5 = 1");
    let p = pins.open(&PinId::Num(5)).unwrap();
    pins.configure(p, Some(Mode::In), None, None).unwrap();
    let led = pins.open(&PinId::Led(1)).unwrap();
    clock.set(150_000);
    pins.write(led, true).unwrap();
    pins.poll().unwrap();
    assert_eq!(
        changes(&pins),
        vec![(0, "Pin(5)".into(), false), (150_000, "LED(1)".into(), true), (150_000, "Pin(5)".into(), true)]
    );
}

#[test]
fn without_keeping_changes_only_present_levels_are_known() {
    let (mut pins, clock) = bank("");
    pins.keep_changes(false);
    let led = pins.open(&PinId::Led(1)).unwrap();
    for t in 0..1000 {
        clock.set(t * 1000);
        pins.write(led, t % 2 == 0).unwrap();
    }
    assert!(pins.trace().changes.is_empty());
    assert_eq!(pins.trace().signals, vec![Signal { id: PinId::Led(1), level: false }]);
    assert_eq!(pins.trace().last_us(), 999_000);
}

#[test]
fn writes_fire_an_outputs_own_interrupt() {
    let (mut pins, _clock) = bank("");
    let p = pins.open(&PinId::Num(2)).unwrap();
    pins.configure(p, Some(Mode::Out), None, Some(false)).unwrap();
    pins.set_irq(p, Edges { rising: true, falling: true }).unwrap();
    pins.write(p, true).unwrap();
    pins.write(p, false).unwrap();
    let edges: Vec<_> = pins.take_irqs().iter().map(|i| (i.edge.rising, i.edge.falling)).collect();
    assert_eq!(edges, vec![(true, false), (false, true)]);
}

#[test]
fn open_drain_pulls_low_or_releases() {
    let (mut pins, clock) = bank("10ms pin 3 = 0");
    let p = pins.open(&PinId::Num(3)).unwrap();
    pins.configure(p, Some(Mode::OpenDrain), None, Some(true)).unwrap();
    assert!(pins.read(p).unwrap(), "released reads 1");
    pins.write(p, false).unwrap();
    assert!(!pins.read(p).unwrap());
    pins.write(p, true).unwrap();
    clock.set(10_000);
    pins.poll().unwrap();
    assert!(!pins.read(p).unwrap(), "released but held low from outside");
}

#[test]
fn missing_lines_are_refused() {
    let (mut pins, _clock) = bank("");
    for id in [PinId::Led(0), PinId::Led(5), PinId::Num(-1)] {
        assert_eq!(pins.open(&id), Err(PinError::NoSuchPin(id.clone())));
    }
    assert_eq!(PinError::NoSuchPin(PinId::Led(5)).to_string(), "LED(5) doesn't exist");
    assert_eq!(pins.open(&PinId::Switch), Ok(0));
    assert_eq!(pins.open(&PinId::Switch), Ok(0));
}

#[test]
fn observers_see_every_change() {
    struct Log(Rc<RefCell<Vec<String>>>);
    impl PinObserver for Log {
        fn changed(&mut self, t_us: u64, signal: usize, level: bool, signals: &[Signal]) {
            let id = &signals[signal].id;
            self.0.borrow_mut().push(format!("{t_us} {id} {}", id.level_word(level)));
        }
        fn finished(&mut self, signals: &[Signal]) {
            self.0.borrow_mut().push(format!("end with {}", signals.len()));
        }
    }
    let log = Rc::new(RefCell::new(Vec::new()));
    let (mut pins, clock) = bank("5ms switch = 1");
    pins.observe(Box::new(Log(log.clone())));
    let sw = pins.open(&PinId::Switch).unwrap();
    pins.configure(sw, Some(Mode::In), None, None).unwrap();
    let led = pins.open(&PinId::Led(2)).unwrap();
    pins.write(led, true).unwrap();
    clock.set(5_000);
    pins.poll().unwrap();
    pins.finish();
    assert_eq!(
        *log.borrow(),
        vec!["0 Switch released", "0 LED(2) on", "5000 Switch pressed", "end with 2"]
    );
}

#[test]
fn ids_parse_from_their_spellings() {
    assert_eq!(PinId::parse("17"), Some(PinId::Num(17)));
    assert_eq!(PinId::parse("X1"), Some(PinId::Name("X1".into())));
    assert_eq!(PinId::parse("'GP2'"), Some(PinId::Name("GP2".into())));
    assert_eq!(PinId::parse("LED(3)"), Some(PinId::Led(3)));
    assert_eq!(PinId::parse("led4"), Some(PinId::Led(4)));
    assert_eq!(PinId::parse("switch"), Some(PinId::Switch));
    assert_eq!(PinId::parse(""), None);
    assert_eq!(PinId::parse("a b"), None);
}

/// A blink of two LEDs, as `examples/blink.py` does under virtual time.
fn blink_trace() -> Pins {
    let (mut pins, clock) = bank("");
    let a = pins.open(&PinId::Led(1)).unwrap();
    let b = pins.open(&PinId::Name("X1".into())).unwrap();
    pins.configure(a, Some(Mode::Out), None, None).unwrap();
    pins.configure(b, Some(Mode::Out), None, None).unwrap();
    for (t, line, level) in [(0, a, true), (0, b, true), (5, a, false), (5, b, false), (405, b, true), (410, b, false)] {
        clock.set(t * 1000);
        pins.write(line, level).unwrap();
    }
    clock.set(1_000_000);
    pins.finish();
    pins
}

#[test]
fn vcd_has_one_wire_per_signal_and_every_edge() {
    let pins = blink_trace();
    let mut out = Vec::new();
    pins.trace().write_vcd(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let expected = concat!(
        "$version\n    microloop ", env!("CARGO_PKG_VERSION"), "\n$end\n",
        "$timescale 1 us $end\n",
        "$scope module board $end\n",
        "$var wire 1 ! LED1 $end\n",
        "$var wire 1 \" Pin_X1 $end\n",
        "$upscope $end\n",
        "$enddefinitions $end\n",
        "#0\n$dumpvars\n1!\n1\"\n$end\n",
        "#5000\n0!\n0\"\n",
        "#405000\n1\"\n",
        "#410000\n0\"\n",
        "#1000000\n",
    );
    assert_eq!(text, expected);

    // And an independent reader agrees.
    let mut parser = vcd::Parser::new(text.as_bytes());
    let header = parser.parse_header().unwrap();
    let led = header.find_var(&["board", "LED1"]).unwrap().code;
    let mut t = 0;
    let mut led_changes = Vec::new();
    for cmd in parser {
        match cmd.unwrap() {
            vcd::Command::Timestamp(ts) => t = ts,
            vcd::Command::ChangeScalar(code, v) if code == led => led_changes.push((t, v)),
            _ => {}
        }
    }
    assert_eq!(led_changes, vec![(0, vcd::Value::V1), (5000, vcd::Value::V0)]);
}

#[test]
fn svg_draws_a_row_per_signal_on_a_millisecond_axis() {
    let pins = blink_trace();
    let svg = pins.trace().svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"));
    assert!(svg.contains(">LED(1)</text>") && svg.contains(">Pin('X1')</text>"));
    assert_eq!(svg.matches("<polyline").count(), 2);
    // 1000 ms spans ten 100 ms intervals: eleven gridlines, labelled 0 to 1000.
    assert_eq!(svg.matches("<line ").count(), 11);
    assert!(svg.contains(">0</text>") && svg.contains(">500</text>") && svg.contains(">1000</text>"));
    // LED(1): high from 0 to 5 ms, low to the end (x = 110 + 840 * t / 1000 ms).
    assert!(svg.contains(r#"points="110.00,44 114.20,44 114.20,64 950.00,64""#), "{svg}");
}

#[test]
fn tick_steps_are_one_two_five() {
    assert_eq!(trace_tick(10_000.0), 1000.0);
    assert_eq!(trace_tick(1_000.0), 100.0);
    assert_eq!(trace_tick(1_500.0), 200.0);
    assert_eq!(trace_tick(4_000.0), 500.0);
    assert_eq!(trace_tick(3.0), 0.5);
}

fn trace_tick(span_ms: f64) -> f64 {
    trace::tick_step(span_ms)
}
