//! The simulated board: every pin exists, outputs are what the script wrote, inputs follow
//! their pull resistor or a [`Stimulus`].

use std::collections::{HashMap, VecDeque};

use super::stimulus::StimulusEvent;
use super::{Line, LineConfig, Mode, PinBackend, PinChange, PinError, PinId, Pull, Stimulus};

/// LEDs a simulated board has: `LED(1)` to `LED(4)`, as on the pyboard.
pub const SIM_LEDS: i64 = 4;

/// One simulated line.
#[derive(Debug)]
struct SimLine {
    id: PinId,
    config: LineConfig,
}

/// A board that exists only in memory.
#[derive(Debug, Default)]
pub struct SimBackend {
    lines: Vec<SimLine>,
    by_id: HashMap<PinId, Line>,
    /// What drives each line from outside, set by the stimulus; kept for lines not yet opened.
    driven: HashMap<PinId, bool>,
    /// Stimulus events still to come.
    pending: VecDeque<StimulusEvent>,
}

impl SimBackend {
    /// A board whose inputs follow `stimulus`.
    pub fn new(stimulus: Stimulus) -> Self {
        SimBackend { pending: stimulus.events.into(), ..SimBackend::default() }
    }

    /// The level of `line`: an output's latch; an input's outside drive, else its pull, else 0;
    /// a released open-drain line's outside drive, else 1 unless pulled down (such lines need
    /// a pull-up somewhere).
    fn level(&self, line: Line) -> bool {
        let l = &self.lines[line];
        let driven = self.driven.get(&l.id).copied();
        match l.config.mode {
            Some(Mode::Out) => l.config.latch,
            Some(Mode::OpenDrain) if !l.config.latch => false,
            Some(Mode::OpenDrain) => driven.unwrap_or(l.config.pull != Pull::Down),
            Some(Mode::In) | None => driven.unwrap_or(l.config.pull == Pull::Up),
        }
    }
}

impl PinBackend for SimBackend {
    fn open(&mut self, line: Line, id: &PinId) -> Result<(), PinError> {
        let exists = match id {
            PinId::Num(n) => *n >= 0,
            PinId::Name(s) => !s.is_empty(),
            PinId::Led(n) => (1..=SIM_LEDS).contains(n),
            PinId::Switch => true,
        };
        if !exists {
            return Err(PinError::NoSuchPin(id.clone()));
        }
        debug_assert_eq!(line, self.lines.len());
        self.lines.push(SimLine {
            id: id.clone(),
            config: LineConfig { mode: None, pull: Pull::None, latch: false, edges: Default::default() },
        });
        self.by_id.insert(id.clone(), line);
        Ok(())
    }

    fn configure(&mut self, line: Line, config: &LineConfig) -> Result<(), PinError> {
        self.lines[line].config = *config;
        Ok(())
    }

    fn read(&mut self, line: Line) -> Result<bool, PinError> {
        Ok(self.level(line))
    }

    fn write(&mut self, line: Line, level: bool) -> Result<(), PinError> {
        self.lines[line].config.latch = level;
        Ok(())
    }

    fn next_change_us(&self) -> Option<u64> {
        self.pending.front().map(|e| e.t_us)
    }

    fn poll_changes(&mut self, now_us: u64, out: &mut Vec<PinChange>) -> Result<(), PinError> {
        while self.pending.front().is_some_and(|e| e.t_us <= now_us) {
            let Some(event) = self.pending.pop_front() else { break };
            self.driven.insert(event.id.clone(), event.level);
            if let Some(&line) = self.by_id.get(&event.id) {
                out.push(PinChange { line, level: self.level(line), t_us: event.t_us });
            }
        }
        Ok(())
    }
}
