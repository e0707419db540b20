//! A host that runs the blink example (`examples/blink.py`, unchanged) with a pin backend of
//! its own: every LED change goes to the host's log, stamped with the loop's time. The clock is
//! virtual, so the script's 10 seconds pass at once.
//!
//! ```text
//! cargo run --ignore-rust-version --profile quick-release -p microloop-runtime --example blink_host
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use microloop_runtime::pins::{Line, LineConfig, PinBackend, PinChange, PinError, PinId};
use microloop_runtime::{Clock, ManualClock, Runtime};

/// The script, exactly as the command line runs it.
const BLINK: &str = include_str!("../../../examples/blink.py");

/// The host's log: one line per event, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// A board with four LEDs and nothing else, which logs what the script does to them.
struct LoggingBoard {
    clock: Arc<ManualClock>,
    log: Log,
    /// The LED number each line the script opened stands for.
    leds: HashMap<Line, i64>,
    /// Each LED's level.
    levels: HashMap<Line, bool>,
}

impl PinBackend for LoggingBoard {
    fn open(&mut self, line: Line, id: &PinId) -> Result<(), PinError> {
        match id {
            PinId::Led(n @ 1..=4) => {
                self.leds.insert(line, *n);
                Ok(())
            }
            // Anything else does not exist on this board: the script gets MicroPython's error.
            _ => Err(PinError::NoSuchPin(id.clone())),
        }
    }

    fn configure(&mut self, _line: Line, _config: &LineConfig) -> Result<(), PinError> {
        Ok(())
    }

    fn read(&mut self, line: Line) -> Result<bool, PinError> {
        Ok(self.levels.get(&line).copied().unwrap_or(false))
    }

    fn write(&mut self, line: Line, level: bool) -> Result<(), PinError> {
        if self.levels.insert(line, level) != Some(level) {
            let ms = self.clock.now_us() as f64 / 1000.0;
            let led = self.leds.get(&line).copied().unwrap_or(0);
            let state = if level { "on" } else { "off" };
            self.log.lock().unwrap().push(format!("{ms:>9.3} ms  LED{led} {state}"));
        }
        Ok(())
    }

    fn poll_changes(&mut self, _now_us: u64, _out: &mut Vec<PinChange>) -> Result<(), PinError> {
        // Outputs only: nothing changes by itself.
        Ok(())
    }
}

fn main() {
    let clock = Arc::new(ManualClock::new(0));
    let log = Log::default();
    let board = LoggingBoard { clock: clock.clone(), log: log.clone(), leds: HashMap::new(), levels: HashMap::new() };
    let rt = Runtime::builder()
        .argv(["blink.py"])
        .clock(clock.clone())
        .pin_backend(Box::new(board))
        .build()
        .expect("the loop's poller");
    if let Err(e) = rt.run_source(BLINK, "blink.py") {
        eprintln!("{e}");
        std::process::exit(e.exit_code());
    }
    let log = log.lock().unwrap();
    for line in log.iter() {
        println!("{line}");
    }
    let pulses = |n: i64| log.iter().filter(|l| l.ends_with(&format!("LED{n} on"))).count();
    println!("{} changes in {} s of virtual time: LED1 pulsed {} times, LED2 {} times", log.len(), clock.now_us() / 1_000_000, pulses(1), pulses(2));
}
