//! The pin model: what `machine.Pin`, `pyb.LED` and `pyb.Switch` act on, with no Python in it.
//!
//! A [`Pins`] bank keeps each line's mode, pull, output latch and interrupt triggers, asks a
//! [`PinBackend`] to carry them out (a simulation by default, [`gpiochip`] on Linux boards),
//! records every level change with its time in a [`Trace`], tells [`PinObserver`]s, and queues
//! the interrupts those changes fire for the run loop to dispatch between task steps.

pub mod gpiochip;
pub mod sim;
pub mod stimulus;
pub mod trace;

use std::collections::HashMap;
use std::fmt;
use std::os::fd::RawFd;
use std::sync::Arc;

use crate::Clock;

pub use sim::SimBackend;
pub use stimulus::{Stimulus, StimulusError};
pub use trace::{Change, Signal, Trace};

/// The name a script gives a line: `Pin(5)`, `Pin('X1')`, `LED(1)`, `Switch()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PinId {
    /// A numbered pin, `Pin(5)`.
    Num(i64),
    /// A named pin, `Pin('X1')`.
    Name(String),
    /// A board LED, `pyb.LED(n)`.
    Led(i64),
    /// The board's user switch, `pyb.Switch()`.
    Switch,
}

impl PinId {
    /// Parses the spelling used in stimulus files and `--gpio` mappings: `5`, `X1`, `'X1'`,
    /// `LED(1)` or `led1`, `switch`.
    pub fn parse(text: &str) -> Option<PinId> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Ok(n) = text.parse::<i64>() {
            return Some(PinId::Num(n));
        }
        let lower = text.to_ascii_lowercase();
        if lower == "switch" || lower == "switch()" || lower == "sw" {
            return Some(PinId::Switch);
        }
        if let Some(rest) = lower.strip_prefix("led") {
            let n = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(rest);
            if let Ok(n) = n.parse::<i64>() {
                return Some(PinId::Led(n));
            }
        }
        let unquoted = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .or_else(|| text.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
            .unwrap_or(text);
        if unquoted.is_empty() || unquoted.chars().any(char::is_whitespace) {
            return None;
        }
        Some(PinId::Name(unquoted.to_owned()))
    }

    /// The words a change of this line is shown with: `on`/`off` for an LED,
    /// `pressed`/`released` for the switch, `1`/`0` for a pin.
    pub fn level_word(&self, level: bool) -> &'static str {
        match (self, level) {
            (PinId::Led(_), true) => "on",
            (PinId::Led(_), false) => "off",
            (PinId::Switch, true) => "pressed",
            (PinId::Switch, false) => "released",
            (_, true) => "1",
            (_, false) => "0",
        }
    }
}

impl fmt::Display for PinId {
    /// As the script would write it: `Pin(5)`, `Pin('X1')`, `LED(1)`, `Switch`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinId::Num(n) => write!(f, "Pin({n})"),
            PinId::Name(s) => write!(f, "Pin('{s}')"),
            PinId::Led(n) => write!(f, "LED({n})"),
            PinId::Switch => f.write_str("Switch"),
        }
    }
}

/// Which way a line is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Input: the line follows whatever drives it from outside, or its pull.
    In,
    /// Push-pull output: the line is the output latch.
    Out,
    /// Open-drain output: a 0 pulls the line low, a 1 releases it.
    OpenDrain,
}

/// The line's internal resistor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    /// No resistor: an undriven input floats.
    #[default]
    None,
    /// Pulled to 1.
    Up,
    /// Pulled to 0.
    Down,
}

/// A set of edges: which transitions fire an interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Edges {
    /// 0 to 1.
    pub rising: bool,
    /// 1 to 0.
    pub falling: bool,
}

impl Edges {
    /// No edges.
    pub const NONE: Edges = Edges { rising: false, falling: false };

    /// True when any edge is selected.
    pub fn any(self) -> bool {
        self.rising || self.falling
    }

    /// The edge a change from `from` to `to` is, if it is selected here.
    pub fn fired(self, from: bool, to: bool) -> Option<Edges> {
        match (from, to) {
            (false, true) if self.rising => Some(Edges { rising: true, falling: false }),
            (true, false) if self.falling => Some(Edges { rising: false, falling: true }),
            _ => None,
        }
    }
}

/// Everything a backend needs to set a line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineConfig {
    /// Direction; `None` leaves the line as the hardware has it.
    pub mode: Option<Mode>,
    /// Internal resistor.
    pub pull: Pull,
    /// The output latch: the level driven once the line is an output.
    pub latch: bool,
    /// Edges the backend must report through [`PinBackend::poll_changes`] as they happen.
    pub edges: Edges,
}

/// Why a backend refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinError {
    /// No line answers to this id.
    NoSuchPin(PinId),
    /// The operation failed on the hardware.
    Io(String),
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinError::NoSuchPin(id) => write!(f, "{id} doesn't exist"),
            PinError::Io(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for PinError {}

/// An index into a [`Pins`] bank, handed out by [`Pins::open`] and stable for the bank's life.
pub type Line = usize;

/// Where lines really are: a simulation, GPIO hardware, or whatever a host provides.
///
/// The bank calls [`open`](Self::open) once per line before anything else on it, with the
/// index it will use from then on. Levels are logical (1 is "on", "pressed", high).
pub trait PinBackend: Send {
    /// Checks that `id` exists and binds it to `line`.
    fn open(&mut self, line: Line, id: &PinId) -> Result<(), PinError>;

    /// Applies a configuration; called whenever mode, pull, latch or edges change.
    fn configure(&mut self, line: Line, config: &LineConfig) -> Result<(), PinError>;

    /// The line's present level.
    fn read(&mut self, line: Line) -> Result<bool, PinError>;

    /// Drives the output latch of a line configured as an output.
    fn write(&mut self, line: Line, level: bool) -> Result<(), PinError>;

    /// A descriptor that becomes readable when [`poll_changes`](Self::poll_changes) has
    /// something to report (register it with the loop's poller); `None` if changes come only
    /// with time.
    fn event_fd(&self) -> Option<RawFd> {
        None
    }

    /// When an input will next change on its own (a simulation's stimulus), on the loop's clock.
    fn next_change_us(&self) -> Option<u64> {
        None
    }

    /// Appends the level changes that happened up to `now_us`, oldest first.
    fn poll_changes(&mut self, now_us: u64, out: &mut Vec<PinChange>) -> Result<(), PinError>;
}

/// Told of every level change as it is recorded.
pub trait PinObserver {
    /// `signal` changed to `level` at `t_us`; `signals` lists every line seen so far.
    fn changed(&mut self, t_us: u64, signal: usize, level: bool, signals: &[Signal]);

    /// The loop is about to sleep: a good moment to bring a throttled display up to date.
    fn idle(&mut self, _signals: &[Signal]) {}

    /// The run is over.
    fn finished(&mut self, _signals: &[Signal]) {}
}

/// A level change a backend reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinChange {
    /// The line.
    pub line: Line,
    /// Its new level.
    pub level: bool,
    /// When it changed, on the loop's clock (a stimulus knows; hardware says "now").
    pub t_us: u64,
}

/// An interrupt a level change fired, waiting to be dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Irq {
    /// The line.
    pub line: Line,
    /// The edge that fired it.
    pub edge: Edges,
}

/// One line's state as the script configured it.
#[derive(Debug)]
struct LineState {
    /// Its name.
    id: PinId,
    /// What the backend was last told.
    config: LineConfig,
    /// The last level recorded in the trace.
    level: Option<bool>,
    /// Edges that fire an interrupt.
    irq: Edges,
}

/// The pin bank: every line a script opened, its backend, its trace and its observers.
pub struct Pins {
    backend: Box<dyn PinBackend>,
    clock: Arc<dyn Clock>,
    lines: Vec<LineState>,
    by_id: HashMap<PinId, Line>,
    trace: Trace,
    observers: Vec<Box<dyn PinObserver>>,
    irqs: Vec<Irq>,
    /// Reused buffer for [`PinBackend::poll_changes`].
    changes: Vec<PinChange>,
}

impl fmt::Debug for Pins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pins").field("lines", &self.lines).finish_non_exhaustive()
    }
}

impl Pins {
    /// A bank over `backend`, timestamping changes with `clock`.
    pub fn new(backend: Box<dyn PinBackend>, clock: Arc<dyn Clock>) -> Self {
        Pins {
            backend,
            clock,
            lines: Vec::new(),
            by_id: HashMap::new(),
            trace: Trace::new(true),
            observers: Vec::new(),
            irqs: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// A bank over a simulation with no stimulus.
    pub fn simulated(clock: Arc<dyn Clock>) -> Self {
        Pins::new(Box::new(SimBackend::new(Stimulus::default())), clock)
    }

    /// Keeps every change for [`trace`](Self::trace) (the default), or only present levels:
    /// a long run that writes no VCD need not hold its whole history. Call before any change.
    pub fn keep_changes(&mut self, keep: bool) {
        self.trace = Trace::new(keep);
    }

    /// Adds an observer, told of every change from now on.
    pub fn observe(&mut self, observer: Box<dyn PinObserver>) {
        self.observers.push(observer);
    }

    /// The line for `id`, opening it on first use.
    pub fn open(&mut self, id: &PinId) -> Result<Line, PinError> {
        if let Some(&line) = self.by_id.get(id) {
            return Ok(line);
        }
        let line = self.lines.len();
        self.backend.open(line, id)?;
        self.lines.push(LineState {
            id: id.clone(),
            config: LineConfig { mode: None, pull: Pull::None, latch: false, edges: Edges::NONE },
            level: None,
            irq: Edges::NONE,
        });
        self.by_id.insert(id.clone(), line);
        Ok(line)
    }

    /// The id `line` was opened with.
    pub fn id(&self, line: Line) -> &PinId {
        &self.lines[line].id
    }

    /// The line's mode, `None` until something sets one.
    pub fn mode(&self, line: Line) -> Option<Mode> {
        self.lines[line].config.mode
    }

    /// The line's pull.
    pub fn pull(&self, line: Line) -> Pull {
        self.lines[line].config.pull
    }

    /// The output latch.
    pub fn latch(&self, line: Line) -> bool {
        self.lines[line].config.latch
    }

    /// Changes what is given (`None` keeps it) and records the level that results. As on
    /// MicroPython ports, the latch is set before the line turns into an output, so
    /// `Pin(n, Pin.OUT, value=1)` never glitches low.
    pub fn configure(
        &mut self,
        line: Line,
        mode: Option<Mode>,
        pull: Option<Pull>,
        latch: Option<bool>,
    ) -> Result<(), PinError> {
        let mut config = self.lines[line].config;
        if let Some(mode) = mode {
            config.mode = Some(mode);
        }
        if let Some(pull) = pull {
            config.pull = pull;
        }
        if let Some(latch) = latch {
            config.latch = latch;
        }
        self.apply(line, config)
    }

    /// Sets the output latch. A line nobody gave a mode becomes an output, as the LED pin of a
    /// board is; an input keeps the value for when it becomes an output.
    pub fn write(&mut self, line: Line, level: bool) -> Result<(), PinError> {
        let state = &self.lines[line];
        match state.config.mode {
            None => {
                let config = LineConfig { mode: Some(Mode::Out), latch: level, ..state.config };
                self.apply(line, config)
            }
            Some(Mode::In) => {
                self.lines[line].config.latch = level;
                Ok(())
            }
            Some(Mode::Out | Mode::OpenDrain) => {
                if state.config.latch == level && state.level.is_some() {
                    return Ok(());
                }
                self.backend.write(line, level)?;
                self.lines[line].config.latch = level;
                let now = self.backend.read(line)?;
                self.record(line, now);
                Ok(())
            }
        }
    }

    /// The line's level now (recorded if it changed unseen).
    pub fn read(&mut self, line: Line) -> Result<bool, PinError> {
        let level = self.backend.read(line)?;
        self.record(line, level);
        Ok(level)
    }

    /// Selects the edges that fire an interrupt (none to disable).
    pub fn set_irq(&mut self, line: Line, edges: Edges) -> Result<(), PinError> {
        self.lines[line].irq = edges;
        let config = LineConfig { edges, ..self.lines[line].config };
        self.apply(line, config)
    }

    /// The backend's descriptor for level changes, if it has one.
    pub fn event_fd(&self) -> Option<RawFd> {
        self.backend.event_fd()
    }

    /// When an input next changes on its own.
    pub fn next_change_us(&self) -> Option<u64> {
        self.backend.next_change_us()
    }

    /// True while an interrupt could still come without the script doing anything: an input
    /// change is scheduled, or hardware edges are watched.
    pub fn may_interrupt(&self) -> bool {
        self.backend.next_change_us().is_some()
            || (self.backend.event_fd().is_some() && self.lines.iter().any(|l| l.irq.any()))
    }

    /// Takes in the changes the backend has up to now, recording them and queueing the
    /// interrupts they fire.
    pub fn poll(&mut self) -> Result<(), PinError> {
        let now = self.clock.now_us();
        let mut changes = std::mem::take(&mut self.changes);
        let result = self.backend.poll_changes(now, &mut changes);
        for c in &changes {
            if c.line < self.lines.len() {
                self.record_at(c.line, c.level, c.t_us.min(now));
            }
        }
        changes.clear();
        self.changes = changes;
        result
    }

    /// Interrupts fired since the last call, oldest first.
    pub fn take_irqs(&mut self) -> Vec<Irq> {
        std::mem::take(&mut self.irqs)
    }

    /// True when interrupts wait to be dispatched.
    pub fn has_irqs(&self) -> bool {
        !self.irqs.is_empty()
    }

    /// Tells observers the loop is going idle.
    pub fn idle(&mut self) {
        for o in &mut self.observers {
            o.idle(&self.trace.signals);
        }
    }

    /// Ends the recording at the clock's present time and tells observers.
    pub fn finish(&mut self) {
        self.trace.end_us = self.clock.now_us();
        for o in &mut self.observers {
            o.finished(&self.trace.signals);
        }
    }

    /// Everything recorded so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Configures the backend and records the resulting level.
    fn apply(&mut self, line: Line, config: LineConfig) -> Result<(), PinError> {
        if config != self.lines[line].config || self.lines[line].level.is_none() {
            self.backend.configure(line, &config)?;
            self.lines[line].config = config;
        }
        let level = self.backend.read(line)?;
        self.record(line, level);
        Ok(())
    }

    /// Records `level` on `line` now; see [`record_at`](Self::record_at).
    fn record(&mut self, line: Line, level: bool) {
        let now = self.clock.now_us();
        self.record_at(line, level, now);
    }

    /// Records `level` on `line` at `t_us` (never before the last change recorded, so the
    /// trace stays in time order) if it differs from the last level, fires the line's
    /// interrupt, tells observers.
    fn record_at(&mut self, line: Line, level: bool, t_us: u64) {
        let state = &mut self.lines[line];
        let previous = state.level.replace(level);
        if previous == Some(level) {
            return;
        }
        if let Some(edge) = previous.and_then(|p| state.irq.fired(p, level)) {
            self.irqs.push(Irq { line, edge });
        }
        let t_us = t_us.max(self.trace.last_us());
        let signal = self.trace.record(&state.id, t_us, level);
        for o in &mut self.observers {
            o.changed(t_us, signal, level, &self.trace.signals);
        }
    }
}

#[cfg(test)]
mod tests;
