//! A host's own pin backend with an event descriptor, as the gpiochip backend has: an edge
//! written from another thread wakes the loop through its poller and runs the script's
//! interrupt handler, which sets an Event the main task waits on.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use microloop_runtime::Runtime;
use microloop_runtime::pins::{Line, LineConfig, Mode, PinBackend, PinChange, PinError, PinId};

/// Pin 4 only; its level is set by bytes arriving on a socket (1 high, 0 low).
struct SocketPin {
    events: UnixStream,
    level: bool,
    /// Every configuration the bank asked for, for the test to check.
    configs: Arc<Mutex<Vec<LineConfig>>>,
}

impl PinBackend for SocketPin {
    fn open(&mut self, _line: Line, id: &PinId) -> Result<(), PinError> {
        match id {
            PinId::Num(4) => Ok(()),
            other => Err(PinError::NoSuchPin(other.clone())),
        }
    }
    fn configure(&mut self, _line: Line, config: &LineConfig) -> Result<(), PinError> {
        if config.mode.is_some_and(|m| m != Mode::In) {
            return Err(PinError::Io("pin 4 is an input".into()));
        }
        self.configs.lock().unwrap().push(*config);
        Ok(())
    }
    fn read(&mut self, _line: Line) -> Result<bool, PinError> {
        Ok(self.level)
    }
    fn write(&mut self, _line: Line, _level: bool) -> Result<(), PinError> {
        unreachable!("never configured as an output")
    }
    fn event_fd(&self) -> Option<RawFd> {
        Some(self.events.as_raw_fd())
    }
    fn poll_changes(&mut self, now_us: u64, out: &mut Vec<PinChange>) -> Result<(), PinError> {
        let mut buf = [0u8; 16];
        loop {
            match self.events.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    for &b in &buf[..n] {
                        self.level = b == 1;
                        out.push(PinChange { line: 0, level: self.level, t_us: now_us });
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(PinError::Io(e.to_string())),
            }
        }
    }
}

#[test]
fn an_edge_from_another_thread_runs_the_handler_and_wakes_the_task() {
    let (events, mut injector) = UnixStream::pair().unwrap();
    events.set_nonblocking(true).unwrap();
    let configs = Arc::new(Mutex::new(Vec::new()));
    let backend = SocketPin { events, level: false, configs: configs.clone() };
    let rt = Runtime::builder().pin_backend(Box::new(backend)).record_pins(true).build().unwrap();
    // The edge may arrive before or after the script starts waiting: the loop only reads it
    // from the poller once the script has armed the interrupt and gone idle.
    let presser = std::thread::spawn(move || injector.write_all(&[1]).unwrap());
    let code = rt.run_source(
        r#"
import asyncio
from machine import Pin
try:
    Pin(5)
    raise SystemExit(2)
except ValueError as e:
    assert str(e) == "invalid pin", e
try:
    Pin(4).on()
    raise SystemExit(3)
except OSError as e:
    assert str(e) == "pin 4 is an input", e
seen = asyncio.Event()
p = Pin(4, Pin.IN, Pin.PULL_DOWN)
p.irq(lambda pin: seen.set(), Pin.IRQ_RISING)
async def main():
    await seen.wait()
    raise SystemExit(42 if p.value() else 1)
asyncio.run(main())
"#,
        "<host>",
    );
    presser.join().unwrap();
    match code {
        Err(microloop_runtime::Error::Exit { code: 42, message: None }) => {}
        other => panic!("expected exit status 42, got {other:?}"),
    }
    let trace = rt.finish_pins();
    let levels: Vec<bool> = trace.changes.iter().map(|c| c.level).collect();
    assert_eq!(levels, vec![false, true]);
    let last = *configs.lock().unwrap().last().unwrap();
    assert!(last.edges.rising && !last.edges.falling);
}
