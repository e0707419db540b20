//! The gpiochip backend against a fake chip: lines live in memory, and each line's edge events
//! travel through a real socket pair, so the run loop's poller sees them as it would a kernel
//! line request's.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::pins::{Edges, Irq, Pins};
use crate::{Interest, ManualClock, Reactor};

/// What the fake chip knows of one line.
#[derive(Debug, Default)]
struct FakeLineState {
    config: Option<LineConfig>,
    level: bool,
    requests: usize,
}

#[derive(Clone, Default)]
struct FakeChip {
    lines: Arc<Mutex<HashMap<(PathBuf, u32), FakeLineState>>>,
    /// The writing ends of the lines' event sockets, for the test to inject edges.
    injectors: Arc<Mutex<HashMap<(PathBuf, u32), UnixStream>>>,
}

impl FakeChip {
    fn state<R>(&self, chip: &str, offset: u32, f: impl FnOnce(&mut FakeLineState) -> R) -> R {
        f(self.lines.lock().unwrap().entry((PathBuf::from(chip), offset)).or_default())
    }

    /// The outside world moves an input line: the level changes and an edge event is queued.
    fn drive(&self, chip: &str, offset: u32, level: bool) {
        self.state(chip, offset, |l| l.level = level);
        let mut injectors = self.injectors.lock().unwrap();
        let w = injectors.get_mut(&(PathBuf::from(chip), offset)).expect("line requested");
        w.write_all(&[level as u8]).unwrap();
    }
}

struct FakeLine {
    key: (PathBuf, u32),
    chip: FakeChip,
    events: UnixStream,
}

impl LineDriver for FakeChip {
    fn request(&mut self, map: &LineMapping, config: &LineConfig) -> Result<Box<dyn LineHandle>, PinError> {
        let key = (map.chip.clone(), map.offset);
        let (events, injector) = UnixStream::pair().unwrap();
        events.set_nonblocking(true).unwrap();
        self.injectors.lock().unwrap().insert(key.clone(), injector);
        let mut line = FakeLine { key, chip: self.clone(), events };
        line.reconfigure(config)?;
        line.with(|l| l.requests += 1);
        Ok(Box::new(line))
    }
}

impl FakeLine {
    fn with<R>(&self, f: impl FnOnce(&mut FakeLineState) -> R) -> R {
        f(self.chip.lines.lock().unwrap().entry(self.key.clone()).or_default())
    }
}

impl LineHandle for FakeLine {
    fn reconfigure(&mut self, config: &LineConfig) -> Result<(), PinError> {
        self.with(|l| {
            if matches!(config.mode, Some(Mode::Out | Mode::OpenDrain)) {
                l.level = config.latch;
            }
            l.config = Some(*config);
        });
        Ok(())
    }
    fn get(&mut self) -> Result<bool, PinError> {
        Ok(self.with(|l| l.level))
    }
    fn set(&mut self, level: bool) -> Result<(), PinError> {
        self.with(|l| l.level = level);
        Ok(())
    }
    fn event_fd(&self) -> RawFd {
        self.events.as_raw_fd()
    }
    fn read_edges(&mut self, out: &mut Vec<bool>) -> Result<(), PinError> {
        let mut buf = [0u8; 64];
        loop {
            match self.events.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => out.extend(buf[..n].iter().map(|&b| b == 1)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(io_error(e)),
            }
        }
    }
}

fn mapping(spec: &str) -> LineMapping {
    LineMapping::parse(spec).unwrap()
}

fn fake_bank() -> (Pins, FakeChip) {
    let chip = FakeChip::default();
    let maps = vec![mapping("5=gpiochip0:17"), mapping("LED(1)=/dev/gpiochip1:3:active-low")];
    let backend = GpioChipBackend::with_driver(maps, Box::new(chip.clone())).unwrap();
    (Pins::new(Box::new(backend), Arc::new(ManualClock::new(0))), chip)
}

#[test]
fn mappings_parse_and_bad_ones_say_what_is_expected() {
    assert_eq!(
        mapping("LED(1)=gpiochip0:17"),
        LineMapping { id: PinId::Led(1), chip: "/dev/gpiochip0".into(), offset: 17, active_low: false }
    );
    assert_eq!(
        mapping("X1=/dev/gpiochip4:2:active-low"),
        LineMapping { id: PinId::Name("X1".into()), chip: "/dev/gpiochip4".into(), offset: 2, active_low: true }
    );
    for bad in ["5", "5=gpiochip0", "5=gpiochip0:x", "5=:3", "5=gpiochip0:3:inverted", "=gpiochip0:1"] {
        assert_eq!(
            LineMapping::parse(bad).unwrap_err(),
            format!("`{bad}`: expected ID=CHIP:OFFSET[:active-low], like `LED(1)=gpiochip0:17`")
        );
    }
}

#[test]
fn only_mapped_ids_exist() {
    let (mut pins, _chip) = fake_bank();
    assert_eq!(pins.open(&PinId::Num(6)), Err(PinError::NoSuchPin(PinId::Num(6))));
    assert_eq!(pins.open(&PinId::Led(2)), Err(PinError::NoSuchPin(PinId::Led(2))));
    assert!(pins.open(&PinId::Num(5)).is_ok());
}

#[test]
fn outputs_reach_the_chip() {
    let (mut pins, chip) = fake_bank();
    let led = pins.open(&PinId::Led(1)).unwrap();
    pins.write(led, true).unwrap();
    assert!(chip.state("/dev/gpiochip1", 3, |l| l.level));
    let config = chip.state("/dev/gpiochip1", 3, |l| l.config).unwrap();
    assert_eq!(config.mode, Some(Mode::Out));
    pins.write(led, false).unwrap();
    assert!(!chip.state("/dev/gpiochip1", 3, |l| l.level));
    assert_eq!(chip.state("/dev/gpiochip1", 3, |l| l.requests), 1, "requested once, then reconfigured");
}

#[test]
fn edges_arrive_through_the_loops_poller_and_fire_interrupts() {
    let (mut pins, chip) = fake_bank();
    let p = pins.open(&PinId::Num(5)).unwrap();
    pins.configure(p, Some(Mode::In), Some(Pull::Up), None).unwrap();
    pins.set_irq(p, Edges { rising: true, falling: true }).unwrap();
    let config = chip.state("/dev/gpiochip0", 17, |l| l.config).unwrap();
    assert_eq!((config.mode, config.pull, config.edges), (Some(Mode::In), Pull::Up, Edges { rising: true, falling: true }));
    assert!(pins.may_interrupt());

    let mut reactor = Reactor::new().unwrap();
    let fd = pins.event_fd().unwrap();
    let token = reactor.register(fd, Interest::Read).unwrap();
    let mut ready = Vec::new();
    reactor.poll(Some(Duration::ZERO), &mut ready).unwrap();
    assert!(ready.is_empty());

    // A button pressed on another thread wakes a poller blocked with no timeout.
    let presser = chip.clone();
    let t = std::thread::spawn(move || {
        presser.drive("/dev/gpiochip0", 17, true);
        presser.drive("/dev/gpiochip0", 17, false);
    });
    reactor.poll(None, &mut ready).unwrap();
    t.join().unwrap();
    assert_eq!(ready.iter().map(|r| r.token).collect::<Vec<_>>(), vec![token]);
    pins.poll().unwrap();
    let fired: Vec<Irq> = pins.take_irqs();
    assert_eq!(
        fired,
        vec![
            Irq { line: p, edge: Edges { rising: true, falling: false } },
            Irq { line: p, edge: Edges { rising: false, falling: true } },
        ]
    );

    // Drained: the next edge signals the poller afresh.
    reactor.poll(Some(Duration::ZERO), &mut ready).unwrap();
    assert!(ready.is_empty());
    chip.drive("/dev/gpiochip0", 17, true);
    reactor.poll(Some(Duration::from_secs(5)), &mut ready).unwrap();
    assert_eq!(ready.len(), 1);
    pins.poll().unwrap();
    assert_eq!(pins.take_irqs().len(), 1);
}

#[test]
fn outputs_never_ask_the_kernel_for_edges() {
    let out = LineConfig { mode: Some(Mode::Out), pull: Pull::None, latch: true, edges: Edges { rising: true, falling: true } };
    assert_eq!(hardware_config(&out).edges, Edges::NONE);
    let unset = LineConfig { mode: None, edges: Edges { rising: true, falling: false }, ..out };
    assert_eq!(hardware_config(&unset).mode, Some(Mode::In));
}

#[test]
fn cdev_requests_carry_direction_bias_drive_edges_and_polarity() {
    use gpiocdev::line::{Bias, Direction, Drive, EdgeDetection, Value};
    let map = mapping("5=gpiochip2:9:active-low");
    let input = LineConfig { mode: Some(Mode::In), pull: Pull::Down, latch: false, edges: Edges { rising: false, falling: true } };
    let c = cdev_config(&map, &input);
    assert_eq!(c.chip(), std::path::Path::new("/dev/gpiochip2"));
    assert_eq!(c.lines().to_vec(), vec![9]);
    let lc = c.line_config(9).unwrap();
    assert_eq!(lc.direction, Some(Direction::Input));
    assert_eq!(lc.bias, Some(Bias::PullDown));
    assert_eq!(lc.edge_detection, Some(EdgeDetection::FallingEdge));
    assert!(lc.active_low);

    let od = LineConfig { mode: Some(Mode::OpenDrain), pull: Pull::None, latch: true, edges: Edges::NONE };
    let lc = cdev_config(&map, &od).line_config(9).unwrap().clone();
    assert_eq!((lc.direction, lc.drive, lc.bias, lc.value), (Some(Direction::Output), Some(Drive::OpenDrain), Some(Bias::Disabled), Some(Value::Active)));
    assert_eq!(lc.edge_detection, None);
}
