//! What a person sees of the pins while a script runs, on stderr so it never mixes with the
//! script's stdout: a live status line pinned to the bottom of a terminal, or one plain line per
//! change when stderr is a file or a pipe.

use std::io::Write;
use std::time::{Duration, Instant};

use microloop_runtime::pins::{PinId, PinObserver, Signal};

/// `0.705 LED(1) off`: seconds on the loop's clock, the line, its new state.
pub struct PlainLines<W: Write> {
    out: W,
}

impl<W: Write> PlainLines<W> {
    pub fn new(out: W) -> Self {
        PlainLines { out }
    }
}

/// Seconds with three decimals, from whole microseconds (no float rounding).
fn seconds(t_us: u64) -> String {
    format!("{}.{:03}", t_us / 1_000_000, (t_us / 1000) % 1000)
}

impl<W: Write> PinObserver for PlainLines<W> {
    fn changed(&mut self, t_us: u64, signal: usize, level: bool, signals: &[Signal]) {
        let id = &signals[signal].id;
        // A closed stderr must not stop the script.
        let _ = writeln!(self.out, "{} {id} {}", seconds(t_us), id.level_word(level));
    }
}

/// Redraws at most this often; the loop going idle or the run ending draws what is pending.
const FRAME: Duration = Duration::from_millis(30);

/// A status line such as `LED(1) ●  LED(2) ○` on the terminal's last row, kept there with a
/// scroll region so the script's own output scrolls above it.
pub struct LiveView<W: Write> {
    out: W,
    /// The terminal's height, asked afresh before each draw.
    rows: Box<dyn FnMut() -> Option<u16>>,
    /// The height the scroll region was set for; `None` until the first draw.
    region: Option<u16>,
    last_draw: Option<Instant>,
    dirty: bool,
}

impl<W: Write> LiveView<W> {
    pub fn new(out: W, rows: Box<dyn FnMut() -> Option<u16>>) -> Self {
        LiveView { out, rows, region: None, last_draw: None, dirty: false }
    }

    /// The status text: each line with a filled dot when high (on, pressed), a hollow one when low.
    pub fn status(signals: &[Signal]) -> String {
        let cells: Vec<String> = signals
            .iter()
            .map(|s| {
                let dot = if s.level { "\u{25cf}" } else { "\u{25cb}" };
                match s.id {
                    PinId::Led(_) if s.level => format!("{} \x1b[1;33m{dot}\x1b[0m", s.id),
                    _ => format!("{} {dot}", s.id),
                }
            })
            .collect();
        cells.join("  ")
    }

    fn draw(&mut self, signals: &[Signal]) {
        let Some(rows) = (self.rows)().filter(|&r| r >= 2) else { return };
        let mut buf = Vec::new();
        if self.region != Some(rows) {
            if self.region.is_none() {
                // Make room for the status row, then fence it off below the scroll region.
                buf.extend_from_slice(b"\n\x1b[1A");
            }
            let _ = write!(buf, "\x1b7\x1b[1;{}r\x1b8", rows - 1);
            self.region = Some(rows);
        }
        let _ = write!(buf, "\x1b7\x1b[{rows};1H\x1b[2K{}\x1b8", Self::status(signals));
        let _ = self.out.write_all(&buf);
        let _ = self.out.flush();
        self.last_draw = Some(Instant::now());
        self.dirty = false;
    }
}

impl<W: Write> PinObserver for LiveView<W> {
    fn changed(&mut self, _t_us: u64, _signal: usize, _level: bool, signals: &[Signal]) {
        self.dirty = true;
        if self.last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            self.draw(signals);
        }
    }

    fn idle(&mut self, signals: &[Signal]) {
        if self.dirty {
            self.draw(signals);
        }
    }

    /// Gives the terminal its last row back.
    fn finished(&mut self, _signals: &[Signal]) {
        if let Some(rows) = self.region.take() {
            let _ = write!(self.out, "\x1b7\x1b[r\x1b[{rows};1H\x1b[2K\x1b8");
            let _ = self.out.flush();
        }
    }
}

/// The height of the terminal on stderr.
pub fn stderr_rows() -> Option<u16> {
    // SAFETY: TIOCGWINSZ fills the winsize it is given and touches nothing else.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        (libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) == 0 && size.ws_row > 0).then_some(size.ws_row)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    fn signals(levels: &[(PinId, bool)]) -> Vec<Signal> {
        levels.iter().map(|(id, level)| Signal { id: id.clone(), level: *level }).collect()
    }

    #[test]
    fn plain_lines_give_seconds_line_and_state() {
        let mut out = Vec::new();
        let mut view = PlainLines::new(&mut out);
        let sig = signals(&[(PinId::Led(1), false), (PinId::Num(5), true), (PinId::Switch, true)]);
        view.changed(705_000, 0, false, &sig);
        view.changed(12_345_678, 1, true, &sig);
        view.changed(999, 2, true, &sig);
        assert_eq!(String::from_utf8(out).unwrap(), "0.705 LED(1) off\n12.345 Pin(5) 1\n0.000 Switch pressed\n");
    }

    /// A writer the test can read back while the view still holds it.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn live_view_pins_a_status_row_and_gives_it_back() {
        let out = Shared::default();
        let mut view = LiveView::new(out.clone(), Box::new(|| Some(24)));
        let mut sig = signals(&[(PinId::Led(1), true), (PinId::Led(2), false)]);
        view.changed(0, 0, true, &sig);
        let first = String::from_utf8(out.0.take()).unwrap();
        assert_eq!(
            first,
            "\n\x1b[1A\x1b7\x1b[1;23r\x1b8\x1b7\x1b[24;1H\x1b[2KLED(1) \x1b[1;33m\u{25cf}\x1b[0m  LED(2) \u{25cb}\x1b8"
        );
        // Within a frame nothing is drawn; going idle draws what is pending.
        sig[0].level = false;
        view.changed(1, 0, false, &sig);
        assert_eq!(out.0.borrow().len(), 0);
        view.idle(&sig);
        assert_eq!(String::from_utf8(out.0.take()).unwrap(), "\x1b7\x1b[24;1H\x1b[2KLED(1) \u{25cb}  LED(2) \u{25cb}\x1b8");
        view.idle(&sig);
        assert_eq!(out.0.borrow().len(), 0, "nothing new, nothing drawn");
        view.finished(&sig);
        assert_eq!(String::from_utf8(out.0.take()).unwrap(), "\x1b7\x1b[r\x1b[24;1H\x1b[2K\x1b8");
    }
}
