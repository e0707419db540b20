//! Real pins through the Linux GPIO character device (`/dev/gpiochipN`, uAPI v2), via the
//! `gpiocdev` crate.
//!
//! Each pin id a script uses is mapped to a chip and a line offset ([`LineMapping`], the
//! `--gpio ID=CHIP:OFFSET` option). A line is requested from the kernel on first use and
//! reconfigured in place after that. Edge events are read from the line requests' descriptors,
//! which sit in a private epoll set whose own descriptor the run loop's poller watches
//! ([`PinBackend::event_fd`]): the loop sleeps until an edge arrives, with no polling thread.
//!
//! The hardware sits behind [`LineDriver`], so the mapping, configuration and event path are
//! tested against a fake chip; [`CdevDriver`] is the real one.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::Duration;

use mio::unix::SourceFd;

use super::{Line, LineConfig, Mode, PinBackend, PinChange, PinError, PinId, Pull};

/// Where a pin id lives: `LED(1)=gpiochip0:17`, `5=/dev/gpiochip0:5:active-low`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMapping {
    /// The id the script uses.
    pub id: PinId,
    /// The chip's device path.
    pub chip: PathBuf,
    /// The line's offset on the chip.
    pub offset: u32,
    /// Logical 1 is the low voltage level (a button to ground, an LED to the supply).
    pub active_low: bool,
}

impl LineMapping {
    /// Parses `ID=CHIP:OFFSET[:active-low]`. CHIP is a path or a name under `/dev`.
    pub fn parse(spec: &str) -> Result<LineMapping, String> {
        let usage = || format!("`{spec}`: expected ID=CHIP:OFFSET[:active-low], like `LED(1)=gpiochip0:17`");
        let (id, target) = spec.split_once('=').ok_or_else(usage)?;
        let id = PinId::parse(id).ok_or_else(usage)?;
        let mut parts = target.split(':');
        let chip = parts.next().filter(|c| !c.is_empty()).ok_or_else(usage)?;
        let offset = parts.next().and_then(|o| o.parse::<u32>().ok()).ok_or_else(usage)?;
        let active_low = match parts.next() {
            None => false,
            Some("active-low") => true,
            Some(_) => return Err(usage()),
        };
        if parts.next().is_some() {
            return Err(usage());
        }
        let chip = if chip.contains('/') { PathBuf::from(chip) } else { PathBuf::from("/dev").join(chip) };
        Ok(LineMapping { id, chip, offset, active_low })
    }
}

/// Requests lines from hardware (or from a fake in tests).
pub trait LineDriver: Send {
    /// Requests the mapped line with `config`.
    fn request(&mut self, map: &LineMapping, config: &LineConfig) -> Result<Box<dyn LineHandle>, PinError>;
}

/// One requested line.
pub trait LineHandle: Send {
    /// Applies a new configuration in place.
    fn reconfigure(&mut self, config: &LineConfig) -> Result<(), PinError>;
    /// The logical level.
    fn get(&mut self) -> Result<bool, PinError>;
    /// Drives the logical level of an output.
    fn set(&mut self, level: bool) -> Result<(), PinError>;
    /// Readable when edge events are queued.
    fn event_fd(&self) -> RawFd;
    /// Appends the level after each queued edge, without blocking.
    fn read_edges(&mut self, out: &mut Vec<bool>) -> Result<(), PinError>;
}

/// A mapped line and its request, made on first use.
struct HwLine {
    map: LineMapping,
    handle: Option<Box<dyn LineHandle>>,
    /// Whether the request's descriptor is in the epoll set.
    watched: bool,
}

/// Pins on GPIO character devices.
pub struct GpioChipBackend {
    maps: HashMap<PinId, LineMapping>,
    driver: Box<dyn LineDriver>,
    lines: Vec<HwLine>,
    /// The private epoll set of the requests that report edges.
    poll: mio::Poll,
    events: mio::Events,
    edges: Vec<bool>,
}

impl std::fmt::Debug for GpioChipBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpioChipBackend").field("maps", &self.maps).finish_non_exhaustive()
    }
}

impl GpioChipBackend {
    /// A backend for the mapped ids, on the real character devices.
    pub fn new(maps: Vec<LineMapping>) -> std::io::Result<Self> {
        Self::with_driver(maps, Box::new(CdevDriver))
    }

    /// A backend whose lines come from `driver`.
    pub fn with_driver(maps: Vec<LineMapping>, driver: Box<dyn LineDriver>) -> std::io::Result<Self> {
        Ok(GpioChipBackend {
            maps: maps.into_iter().map(|m| (m.id.clone(), m)).collect(),
            driver,
            lines: Vec::new(),
            poll: mio::Poll::new()?,
            events: mio::Events::with_capacity(64),
            edges: Vec::new(),
        })
    }

    /// The line's request, made as-is (direction untouched) if nothing configured it yet.
    fn handle(&mut self, line: Line) -> Result<&mut Box<dyn LineHandle>, PinError> {
        let hw = &mut self.lines[line];
        if hw.handle.is_none() {
            let config = LineConfig { mode: None, pull: Pull::None, latch: false, edges: Default::default() };
            hw.handle = Some(self.driver.request(&hw.map, &config)?);
        }
        Ok(hw.handle.as_mut().expect("requested above"))
    }
}

/// The kernel reports edges on inputs only: an output's changes are the script's own writes,
/// which the pin bank records itself.
fn hardware_config(config: &LineConfig) -> LineConfig {
    let mut c = *config;
    if matches!(c.mode, Some(Mode::Out | Mode::OpenDrain)) {
        c.edges = Default::default();
    } else if c.edges.any() {
        c.mode = Some(Mode::In);
    }
    c
}

fn io_error(e: impl std::fmt::Display) -> PinError {
    PinError::Io(e.to_string())
}

impl PinBackend for GpioChipBackend {
    fn open(&mut self, line: Line, id: &PinId) -> Result<(), PinError> {
        let map = self.maps.get(id).cloned().ok_or_else(|| PinError::NoSuchPin(id.clone()))?;
        debug_assert_eq!(line, self.lines.len());
        self.lines.push(HwLine { map, handle: None, watched: false });
        Ok(())
    }

    fn configure(&mut self, line: Line, config: &LineConfig) -> Result<(), PinError> {
        let config = hardware_config(config);
        let hw = &mut self.lines[line];
        match &mut hw.handle {
            Some(handle) => handle.reconfigure(&config)?,
            None => hw.handle = Some(self.driver.request(&hw.map, &config)?),
        }
        if config.edges.any() && !hw.watched {
            let fd = hw.handle.as_ref().expect("requested above").event_fd();
            self.poll
                .registry()
                .register(&mut SourceFd(&fd), mio::Token(line), mio::Interest::READABLE)
                .map_err(io_error)?;
            hw.watched = true;
        }
        Ok(())
    }

    fn read(&mut self, line: Line) -> Result<bool, PinError> {
        self.handle(line)?.get()
    }

    fn write(&mut self, line: Line, level: bool) -> Result<(), PinError> {
        self.handle(line)?.set(level)
    }

    fn event_fd(&self) -> Option<RawFd> {
        Some(self.poll.as_raw_fd())
    }

    fn poll_changes(&mut self, now_us: u64, out: &mut Vec<PinChange>) -> Result<(), PinError> {
        // Empty the epoll set's ready list so its descriptor signals the next edge afresh.
        self.poll.poll(&mut self.events, Some(Duration::ZERO)).map_err(io_error)?;
        for (line, hw) in self.lines.iter_mut().enumerate() {
            let Some(handle) = hw.handle.as_mut().filter(|_| hw.watched) else { continue };
            self.edges.clear();
            handle.read_edges(&mut self.edges)?;
            out.extend(self.edges.iter().map(|&level| PinChange { line, level, t_us: now_us }));
        }
        Ok(())
    }
}

/// The real driver: `gpiocdev` line requests with the consumer label `microloop`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CdevDriver;

/// The `gpiocdev` request configuration for `config` on the mapped line.
pub fn cdev_config(map: &LineMapping, config: &LineConfig) -> gpiocdev::request::Config {
    use gpiocdev::line::{Bias, Drive, EdgeDetection, Value};
    let mut c = gpiocdev::request::Config::default();
    c.on_chip(&map.chip).with_line(map.offset);
    if map.active_low {
        c.as_active_low();
    }
    let latch = if config.latch { Value::Active } else { Value::Inactive };
    match config.mode {
        None => {
            c.as_is();
        }
        Some(Mode::In) => {
            c.as_input();
        }
        Some(Mode::Out) => {
            c.as_output(latch).with_drive(Drive::PushPull);
        }
        Some(Mode::OpenDrain) => {
            c.as_output(latch).with_drive(Drive::OpenDrain);
        }
    }
    if config.mode.is_some() {
        c.with_bias(match config.pull {
            Pull::None => Bias::Disabled,
            Pull::Up => Bias::PullUp,
            Pull::Down => Bias::PullDown,
        });
    }
    // Edge detection makes a line an input in gpiocdev, so outputs must not mention it.
    match (config.edges.rising, config.edges.falling) {
        (true, true) => c.with_edge_detection(EdgeDetection::BothEdges),
        (true, false) => c.with_edge_detection(EdgeDetection::RisingEdge),
        (false, true) => c.with_edge_detection(EdgeDetection::FallingEdge),
        (false, false) if config.mode == Some(Mode::In) => c.with_edge_detection(None),
        (false, false) => &mut c,
    };
    c
}

impl LineDriver for CdevDriver {
    fn request(&mut self, map: &LineMapping, config: &LineConfig) -> Result<Box<dyn LineHandle>, PinError> {
        let request = gpiocdev::Request::from_config(cdev_config(map, config))
            .with_consumer("microloop")
            .request()
            .map_err(|e| PinError::Io(format!("{}:{}: {e}", map.chip.display(), map.offset)))?;
        Ok(Box::new(CdevLine { map: map.clone(), request }))
    }
}

/// A line requested through `gpiocdev`.
struct CdevLine {
    map: LineMapping,
    request: gpiocdev::Request,
}

impl LineHandle for CdevLine {
    fn reconfigure(&mut self, config: &LineConfig) -> Result<(), PinError> {
        self.request.reconfigure(&cdev_config(&self.map, config)).map_err(io_error)
    }

    fn get(&mut self) -> Result<bool, PinError> {
        let value = self.request.value(self.map.offset).map_err(io_error)?;
        Ok(value == gpiocdev::line::Value::Active)
    }

    fn set(&mut self, level: bool) -> Result<(), PinError> {
        let value = if level { gpiocdev::line::Value::Active } else { gpiocdev::line::Value::Inactive };
        self.request.set_value(self.map.offset, value).map_err(io_error)
    }

    fn event_fd(&self) -> RawFd {
        self.request.as_raw_fd()
    }

    fn read_edges(&mut self, out: &mut Vec<bool>) -> Result<(), PinError> {
        while self.request.has_edge_event().map_err(io_error)? {
            let event = self.request.read_edge_event().map_err(io_error)?;
            out.push(event.kind == gpiocdev::line::EdgeKind::Rising);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
