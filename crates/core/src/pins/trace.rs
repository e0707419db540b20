//! Every level change of a run, and the two ways to look at it afterwards: a Value Change Dump
//! for waveform viewers (GTKWave, Surfer, PulseView) and an SVG timing diagram.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use super::PinId;

/// One line as it appears in the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The line's id.
    pub id: PinId,
    /// Its present level.
    pub level: bool,
}

impl Signal {
    /// A name waveform viewers accept: `LED1`, `Pin5`, `Pin_X1`, `Switch`.
    pub fn vcd_name(&self) -> String {
        match &self.id {
            PinId::Num(n) if *n < 0 => format!("Pin_m{}", n.unsigned_abs()),
            PinId::Num(n) => format!("Pin{n}"),
            PinId::Name(s) => {
                let clean: String =
                    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                format!("Pin_{clean}")
            }
            PinId::Led(n) => format!("LED{n}"),
            PinId::Switch => "Switch".to_owned(),
        }
    }
}

/// A level change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// When, in microseconds on the loop's clock.
    pub t_us: u64,
    /// Index into [`Trace::signals`].
    pub signal: usize,
    /// The new level.
    pub level: bool,
}

/// The signals of a run, in the order they first got a level, and their changes in time order.
/// The first change of each signal is its initial level.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Every line that has had a level, with its present one.
    pub signals: Vec<Signal>,
    /// Every change, oldest first; empty unless the trace keeps changes.
    pub changes: Vec<Change>,
    /// When the run ended (0 until it does).
    pub end_us: u64,
    /// Whether [`changes`](Self::changes) grows. Without it the trace knows only the present
    /// levels, so a long run does not pile changes up in memory.
    keep_changes: bool,
    /// The time of the latest change.
    last_us: u64,
    index: HashMap<PinId, usize>,
}

impl Trace {
    /// An empty trace that keeps every change (`keep` true) or only the present levels.
    pub fn new(keep: bool) -> Self {
        Trace { keep_changes: keep, ..Trace::default() }
    }

    /// The time of the latest change recorded (0 before any).
    pub fn last_us(&self) -> u64 {
        self.last_us
    }

    /// Records that `id` went to `level` at `t_us`; returns the signal's index.
    pub fn record(&mut self, id: &PinId, t_us: u64, level: bool) -> usize {
        let signal = match self.index.get(id) {
            Some(&i) => i,
            None => {
                self.signals.push(Signal { id: id.clone(), level });
                self.index.insert(id.clone(), self.signals.len() - 1);
                self.signals.len() - 1
            }
        };
        self.signals[signal].level = level;
        self.last_us = self.last_us.max(t_us);
        if self.keep_changes {
            self.changes.push(Change { t_us, signal, level });
        }
        signal
    }

    /// The end of the time axis: the run's end, or the last change if later.
    pub fn span_us(&self) -> u64 {
        self.changes.last().map_or(0, |c| c.t_us).max(self.end_us)
    }

    /// Writes a Value Change Dump with a 1 µs timescale: one 1-bit wire per signal under a
    /// `board` scope, `x` until a signal's first level.
    pub fn write_vcd<W: io::Write>(&self, out: W) -> io::Result<()> {
        let mut w = vcd::Writer::new(out);
        w.version(concat!("microloop ", env!("CARGO_PKG_VERSION")))?;
        w.timescale(1, vcd::TimescaleUnit::US)?;
        w.add_module("board")?;
        let codes = self
            .signals
            .iter()
            .map(|s| w.add_wire(1, &s.vcd_name()))
            .collect::<io::Result<Vec<_>>>()?;
        w.upscope()?;
        w.enddefinitions()?;
        w.timestamp(0)?;
        w.begin(vcd::SimulationCommand::Dumpvars)?;
        let mut start = 0;
        let mut initial = vec![vcd::Value::X; self.signals.len()];
        while let Some(c) = self.changes.get(start).filter(|c| c.t_us == 0) {
            initial[c.signal] = c.level.into();
            start += 1;
        }
        for (code, value) in codes.iter().zip(initial) {
            w.change_scalar(*code, value)?;
        }
        w.end()?;
        let mut last_t = 0;
        for c in &self.changes[start..] {
            if c.t_us != last_t {
                w.timestamp(c.t_us)?;
                last_t = c.t_us;
            }
            w.change_scalar(codes[c.signal], c.level)?;
        }
        if self.end_us > last_t {
            w.timestamp(self.end_us)?;
        }
        w.flush()
    }

    /// Writes an SVG timing diagram: one row per signal, a time axis in milliseconds.
    pub fn write_svg<W: io::Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(self.svg().as_bytes())
    }

    /// The SVG text of [`write_svg`](Self::write_svg).
    pub fn svg(&self) -> String {
        const LABEL_W: f64 = 110.0;
        const PLOT_W: f64 = 840.0;
        const ROW_H: f64 = 40.0;
        const TOP: f64 = 34.0;
        const HIGH: f64 = 10.0;
        const LOW: f64 = 30.0;
        let span_us = self.span_us().max(1);
        let span_ms = span_us as f64 / 1000.0;
        let x = |t_us: u64| LABEL_W + PLOT_W * (t_us as f64 / span_us as f64);
        let rows = self.signals.len().max(1) as f64;
        let height = TOP + rows * ROW_H + 30.0;
        let width = LABEL_W + PLOT_W + 20.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">"#
        );
        let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
        let _ = writeln!(
            s,
            r##"<text x="{LABEL_W}" y="18" fill="#333">microloop pin trace, 0 to {} ms</text>"##,
            fmt_ms(span_ms)
        );
        // Time axis: gridlines at a 1-2-5 step giving at most 10 intervals.
        let step = tick_step(span_ms);
        let axis_y = TOP + rows * ROW_H;
        let mut t = 0.0;
        while t <= span_ms + 1e-9 {
            let gx = LABEL_W + PLOT_W * (t / span_ms);
            let _ = writeln!(
                s,
                r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{axis_y}" stroke="#e4e4e4"/><text x="{gx:.1}" y="{:.1}" fill="#555" text-anchor="middle">{}</text>"##,
                axis_y + 16.0,
                fmt_ms(t)
            );
            t += step;
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#555" text-anchor="end">ms</text>"##,
            LABEL_W - 8.0,
            axis_y + 16.0
        );
        for (row, signal) in self.signals.iter().enumerate() {
            let top = TOP + row as f64 * ROW_H;
            let _ = writeln!(
                s,
                r##"<text x="8" y="{:.1}" fill="#000">{}</text>"##,
                top + 24.0,
                signal.id
            );
            let mut points = String::new();
            let mut level = None;
            let mut changes = self.changes.iter().filter(|c| c.signal == row).peekable();
            while let Some(c) = changes.next() {
                // Of several changes at one instant, only the last shows.
                if changes.peek().is_some_and(|n| n.t_us == c.t_us) {
                    continue;
                }
                let cx = x(c.t_us);
                if let Some(prev) = level {
                    let y = top + if prev { HIGH } else { LOW };
                    let _ = write!(points, "{cx:.2},{y} ");
                }
                let y = top + if c.level { HIGH } else { LOW };
                let _ = write!(points, "{cx:.2},{y} ");
                level = Some(c.level);
            }
            if let Some(level) = level {
                let y = top + if level { HIGH } else { LOW };
                let _ = write!(points, "{:.2},{y}", x(span_us));
                let _ = writeln!(
                    s,
                    r##"<polyline points="{}" fill="none" stroke="#1565c0" stroke-width="1.5"/>"##,
                    points.trim_end()
                );
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

/// A gridline spacing of 1, 2 or 5 times a power of ten giving at most 10 intervals.
pub(super) fn tick_step(span_ms: f64) -> f64 {
    let mut step = 10f64.powf((span_ms / 10.0).log10().floor());
    for factor in [1.0, 2.0, 5.0, 10.0] {
        if span_ms / (step * factor) <= 10.0 {
            step *= factor;
            break;
        }
    }
    step
}

/// Milliseconds without trailing zeros: `705`, `0.5`.
fn fmt_ms(ms: f64) -> String {
    let text = format!("{ms:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
