//! The line editor of the friendly REPL, keystroke for keystroke as MicroPython's (its
//! `shared/readline` is the model, MicroPython's unix port the oracle): the same keys, the same
//! VT100 bytes on the screen, auto-indent after a line ending in `:`, Tab completion, history.
//!
//! A statement's lines share one buffer, `\n` between them; a line being edited is the
//! buffer's tail, so auto-indent and Tab can look at the lines before it. Only printable ASCII is
//! typed in (other bytes are dropped, as MicroPython's editor drops them), so a byte is a column.

use std::collections::VecDeque;
use std::path::Path;

use super::terminal::{Input, Terminal};

pub const CTRL_A: u8 = 0x01;
pub const CTRL_B: u8 = 0x02;
pub const CTRL_C: u8 = 0x03;
pub const CTRL_D: u8 = 0x04;
pub const CTRL_E: u8 = 0x05;
const CTRL_F: u8 = 0x06;
const CTRL_K: u8 = 0x0b;
const CTRL_N: u8 = 0x0e;
const CTRL_P: u8 = 0x10;
const CTRL_U: u8 = 0x15;
const CTRL_W: u8 = 0x17;
const ESC: u8 = 0x1b;
const BACKSPACE: u8 = 0x08;
const DEL: u8 = 0x7f;

/// The indentation auto-indent adds per level, and Tab after whitespace.
const INDENT: &[u8] = b"    ";

/// Lines kept for Up and Down, newest first (the size of MicroPython's unix history).
const HISTORY_SIZE: usize = 50;

/// How reading a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Enter: the line is in the buffer.
    Enter,
    /// Ctrl-C anywhere, or Ctrl-A, B, D or E on an empty line: the caller decides.
    Control(u8),
    /// Standard input ended.
    End,
}

/// What Tab found for the name before the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// No name fits.
    Nothing,
    /// Text to insert: the rest of the one name that fits, or what all those that fit share.
    Insert(String),
    /// Several names fit and share nothing more: they are listed under the line.
    Several(Vec<String>),
}

/// Lines entered before, newest first; kept in a file between sessions.
pub struct History {
    lines: VecDeque<String>,
}

impl History {
    /// The history saved in `path`, if there is one. A file rustyline wrote (microloop's
    /// editor until now; first line `#V2`, entries escaped) is read too, one entry per line.
    pub fn load(path: Option<&Path>) -> History {
        let mut history = History { lines: VecDeque::new() };
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else { return history };
        let mut lines = text.lines().peekable();
        let escaped = lines.next_if_eq(&"#V2").is_some();
        for line in lines {
            let line = if escaped { unescape(line) } else { line.to_owned() };
            for part in line.split('\n') {
                history.push(part);
            }
        }
        history
    }

    /// Writes the history to `path`, oldest first, one line each.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut text = String::new();
        for line in self.lines.iter().rev() {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Records a line entered, unless it is empty or the same as the newest.
    fn push(&mut self, line: &str) {
        if line.is_empty() || self.lines.front().is_some_and(|newest| newest == line) {
            return;
        }
        self.lines.push_front(line.to_owned());
        self.lines.truncate(HISTORY_SIZE);
    }
}

/// An entry of rustyline's history file: `\\` stands for a backslash, `\n` for a line break.
fn unescape(entry: &str) -> String {
    let mut out = String::with_capacity(entry.len());
    let mut chars = entry.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(escaped) => out.push(escaped),
            None => out.push('\\'),
        }
    }
    out
}

/// The part of an escape sequence read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Not in a sequence.
    None,
    /// ESC.
    Esc,
    /// ESC `[`.
    Csi,
    /// ESC `[` and a digit.
    CsiDigit(u8),
    /// ESC `O`.
    Ss3,
}

/// How the screen catches up with an edit, in MicroPython's VT100 bytes: the cursor moves
/// `back` columns left; then either the line is drawn again from the cursor to its end
/// (`rewrite`, erasing first if it got shorter) and the cursor ends `forward` columns on, or
/// the cursor moves `forward` columns right by drawing over what is there.
#[derive(Debug, Default, Clone, Copy)]
struct Update {
    back: usize,
    rewrite: bool,
    forward: usize,
}

/// Reads lines as MicroPython's REPL does.
pub struct Editor {
    pub history: History,
    /// Continuation lines of the statement get indented automatically. Off once a space or Tab
    /// follows an indent just added: pasted code brings its own.
    auto_indent: bool,
}

/// One line being typed at the end of a statement's buffer.
struct Line<'a> {
    /// The statement so far; this line is `text[start..]`.
    text: &'a mut Vec<u8>,
    start: usize,
    /// Where the cursor is in `text`.
    cursor: usize,
    /// How far back Up has gone in the history: 0 is the line being typed.
    recalled: usize,
    /// An automatic indentation was just written and no key pressed since.
    just_indented: bool,
}

impl Editor {
    pub fn new(history: History) -> Editor {
        Editor { history, auto_indent: true }
    }

    /// Shows `prompt` and reads a line onto the end of `text` (the statement's earlier lines, or
    /// nothing). `complete` gets what precedes the cursor on this line when Tab asks for names.
    pub fn read_line(
        &mut self,
        term: &mut Terminal,
        text: &mut Vec<u8>,
        prompt: &str,
        complete: &mut dyn FnMut(&str) -> Completion,
    ) -> Ending {
        if text.is_empty() {
            self.auto_indent = true;
        }
        term.write(prompt.as_bytes());
        let start = text.len();
        let mut line = Line { text, start, cursor: start, recalled: 0, just_indented: false };
        if self.auto_indent {
            let indent = auto_indent(line.text);
            if indent > 0 {
                line.text.extend(std::iter::repeat_n(b' ', indent));
                line.cursor += indent;
                line.just_indented = true;
                term.write(&line.text[start..]);
            }
        }
        let mut escape = Escape::None;
        loop {
            let c = match term.read() {
                Input::Byte(c) => c,
                Input::End => return Ending::End,
            };
            let old_len = line.text.len();
            let mut update = Update::default();
            match escape {
                Escape::None => {
                    if (CTRL_A..=CTRL_E).contains(&c) && line.is_empty() {
                        return Ending::Control(c);
                    }
                    match c {
                        CTRL_A => update = line.home(),
                        CTRL_B => update = line.left(),
                        CTRL_C => return Ending::Control(CTRL_C),
                        CTRL_D => update = line.delete(),
                        CTRL_E => update = line.end(),
                        CTRL_F => update = line.right(),
                        CTRL_K => {
                            line.text.truncate(line.cursor);
                            update.rewrite = true;
                        }
                        CTRL_N => update = line.recall(&self.history, -1),
                        CTRL_P => update = line.recall(&self.history, 1),
                        CTRL_U => {
                            update.back = line.cursor - line.start;
                            line.text.drain(line.start..line.cursor);
                            update.rewrite = true;
                        }
                        CTRL_W => update = line.kill_word_back(),
                        b'\r' => {
                            term.write(b"\r\n");
                            self.history.push(&String::from_utf8_lossy(&line.text[line.start..]));
                            return Ending::Enter;
                        }
                        ESC => escape = Escape::Esc,
                        BACKSPACE | DEL => update = line.backspace(),
                        b'\t' | b' ' if line.just_indented => {
                            // Pasted code after an automatic indent: its own indentation takes
                            // over. A space replaces one level of the indent, a Tab leaves it.
                            self.auto_indent = false;
                            if c == b' ' {
                                line.text.truncate(line.text.len() - 3);
                                update.back = 3;
                            }
                        }
                        b'\t' => update = line.tab(term, prompt, complete),
                        32..=126 => update = line.insert(&[c]),
                        _ => {}
                    }
                }
                Escape::Esc => {
                    escape = Escape::None;
                    match c {
                        b'[' => escape = Escape::Csi,
                        b'O' => escape = Escape::Ss3,
                        b'b' => update.back = line.word(false),
                        b'f' => update.forward = line.word(true),
                        b'd' => {
                            let n = line.word(true);
                            line.text.drain(line.cursor..line.cursor + n);
                            update.rewrite = true;
                        }
                        DEL => update = line.kill_word_back(),
                        _ => {}
                    }
                }
                Escape::Csi => {
                    escape = Escape::None;
                    match c {
                        b'0'..=b'9' => escape = Escape::CsiDigit(c),
                        b'A' => update = line.recall(&self.history, 1),
                        b'B' => update = line.recall(&self.history, -1),
                        b'C' => update = line.right(),
                        b'D' => update = line.left(),
                        b'H' => update = line.home(),
                        b'F' => update = line.end(),
                        _ => {}
                    }
                }
                Escape::CsiDigit(digit) => {
                    escape = Escape::None;
                    match (digit, c) {
                        (b'1' | b'7', b'~') => update = line.home(),
                        (b'4' | b'8', b'~') => update = line.end(),
                        (b'3', b'~') => update = line.delete(),
                        // ESC [ 1 ; 5 C and D: Ctrl-Right and Ctrl-Left.
                        (b'1', b';') => escape = Escape::Csi,
                        (b'5', b'C') => update.forward = line.word(true),
                        (b'5', b'D') => update.back = line.word(false),
                        _ => {}
                    }
                }
                Escape::Ss3 => {
                    escape = Escape::None;
                    match c {
                        b'H' => update = line.home(),
                        b'F' => update = line.end(),
                        _ => {}
                    }
                }
            }
            line.show(term, old_len, update);
            line.just_indented = false;
        }
    }
}

impl Line<'_> {
    fn is_empty(&self) -> bool {
        self.text.len() == self.start
    }

    fn home(&self) -> Update {
        Update { back: self.cursor - self.start, ..Update::default() }
    }

    fn end(&self) -> Update {
        Update { forward: self.text.len() - self.cursor, ..Update::default() }
    }

    fn left(&self) -> Update {
        Update { back: usize::from(self.cursor > self.start), ..Update::default() }
    }

    fn right(&self) -> Update {
        Update { forward: usize::from(self.cursor < self.text.len()), ..Update::default() }
    }

    /// Deletes the character under the cursor.
    fn delete(&mut self) -> Update {
        if self.cursor == self.text.len() {
            return Update::default();
        }
        self.text.remove(self.cursor);
        Update { rewrite: true, ..Update::default() }
    }

    /// Deletes the character before the cursor, or a whole indentation level when only spaces
    /// (four or more) precede it on the line.
    fn backspace(&mut self) -> Update {
        let typed = &self.text[self.start..self.cursor];
        if typed.is_empty() {
            return Update::default();
        }
        let n = if typed.len() >= INDENT.len() && typed.iter().all(|&b| b == b' ') { INDENT.len() } else { 1 };
        self.text.drain(self.cursor - n..self.cursor);
        Update { back: n, rewrite: true, forward: 0 }
    }

    fn insert(&mut self, bytes: &[u8]) -> Update {
        self.text.splice(self.cursor..self.cursor, bytes.iter().copied());
        Update { back: 0, rewrite: true, forward: bytes.len() }
    }

    /// Columns from the cursor to the end (`forward`) or the start (back) of the nearest word,
    /// a word being letters and digits.
    fn word(&self, forward: bool) -> usize {
        let mut pos = self.cursor;
        let mut in_word = false;
        loop {
            let c = match forward {
                true if pos < self.text.len() => self.text[pos],
                false if pos > self.start => self.text[pos - 1],
                _ => break,
            };
            if c.is_ascii_alphanumeric() {
                in_word = true;
            } else if in_word {
                break;
            }
            if forward { pos += 1 } else { pos -= 1 }
        }
        pos.abs_diff(self.cursor)
    }

    fn kill_word_back(&mut self) -> Update {
        let n = self.word(false);
        self.text.drain(self.cursor - n..self.cursor);
        Update { back: n, rewrite: true, forward: 0 }
    }

    /// Replaces the line with an older (`step` 1) or newer (-1) history entry; newer than the
    /// newest is an empty line.
    fn recall(&mut self, history: &History, step: isize) -> Update {
        let Some(target) = self.recalled.checked_add_signed(step) else { return Update::default() };
        if target > history.lines.len() {
            return Update::default();
        }
        self.recalled = target;
        self.text.truncate(self.start);
        if target > 0 {
            self.text.extend_from_slice(history.lines[target - 1].as_bytes());
        }
        Update { back: self.cursor - self.start, rewrite: true, forward: self.text.len() - self.start }
    }

    /// Tab: four spaces after whitespace (the end of the line before included), else the
    /// completion of the name before the cursor.
    fn tab(&mut self, term: &Terminal, prompt: &str, complete: &mut dyn FnMut(&str) -> Completion) -> Update {
        if self.cursor > 0 && self.text[self.cursor - 1].is_ascii_whitespace() {
            return self.insert(INDENT);
        }
        let typed = String::from_utf8_lossy(&self.text[self.start..self.cursor]).into_owned();
        match complete(&typed) {
            Completion::Nothing => Update::default(),
            Completion::Insert(more) => self.insert(more.as_bytes()),
            Completion::Several(names) => {
                term.write(columns(&names).as_bytes());
                term.write(prompt.as_bytes());
                term.write(typed.as_bytes());
                Update { rewrite: true, ..Update::default() }
            }
        }
    }

    /// Brings the screen up to date after an edit; `old_len` is the buffer's length before it.
    fn show(&mut self, term: &Terminal, old_len: usize, update: Update) {
        let mut out = Vec::new();
        if update.back > 0 {
            cursor_back(&mut out, update.back);
            self.cursor -= update.back;
        }
        if update.rewrite {
            if self.text.len() < old_len {
                out.extend_from_slice(b"\x1b[K");
            }
            out.extend_from_slice(&self.text[self.cursor..]);
            cursor_back(&mut out, self.text.len() - (self.cursor + update.forward));
            self.cursor += update.forward;
        } else if update.forward > 0 {
            out.extend_from_slice(&self.text[self.cursor..self.cursor + update.forward]);
            self.cursor += update.forward;
        }
        term.write(&out);
    }
}

/// Moves the cursor `n` columns left: backspaces for a few, `ESC [ n D` beyond four.
fn cursor_back(out: &mut Vec<u8>, n: usize) {
    if n <= 4 {
        out.extend(std::iter::repeat_n(BACKSPACE, n));
    } else {
        out.extend_from_slice(format!("\x1b[{n}D").as_bytes());
    }
}

/// The indentation a continuation line starts with: the line before's, one level more if it
/// ends with `:`; none after two lines of nothing but spaces (that is how a block is left).
fn auto_indent(text: &[u8]) -> usize {
    let len = text.len();
    if len < 2 || text[len - 1] != b'\n' {
        return 0;
    }
    let before = &text[..len - 1];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let previous = &before[line_start..];
    let spaces = previous.iter().take_while(|&&b| b == b' ').count();
    if line_start > 0 && spaces == previous.len() {
        // The line before is blank: so was the one before it?
        let earlier = &text[..line_start - 1];
        if earlier.iter().rev().find(|&&b| b != b' ') == Some(&b'\n') {
            return 0;
        }
    }
    let levels = spaces / INDENT.len() + usize::from(previous.last() == Some(&b':'));
    levels * INDENT.len()
}

/// Several names laid out as MicroPython lists them: slots of 16 columns, lines of at most
/// 64, a long name taking as many slots as it needs; a newline before and after.
fn columns(names: &[String]) -> String {
    const SLOT: usize = 16;
    const WIDTH: usize = 4 * SLOT;
    let mut out = String::new();
    let mut used = WIDTH;
    for name in names {
        let mut gap = used.next_multiple_of(SLOT) - used;
        if gap < 2 {
            gap += SLOT;
        }
        if used + gap + name.len() <= WIDTH {
            out.extend(std::iter::repeat_n(' ', gap));
            used += gap + name.len();
        } else {
            out.push('\n');
            used = name.len();
        }
        out.push_str(name);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_indent_follows_the_line_before() {
        assert_eq!(auto_indent(b"if x:\n"), 4);
        assert_eq!(auto_indent(b"if x:\n    y = 1\n"), 4);
        assert_eq!(auto_indent(b"if x:\n    if y:\n"), 8);
        assert_eq!(auto_indent(b"(1,\n"), 0);
        // One blank line keeps the indent, a second one drops it.
        assert_eq!(auto_indent(b"if x:\n    y\n    \n"), 4);
        assert_eq!(auto_indent(b"if x:\n    y\n    \n    \n"), 0);
        assert_eq!(auto_indent(b""), 0);
    }

    #[test]
    fn names_are_laid_out_in_slots_of_sixteen() {
        let names: Vec<String> = ["x", "abcdefghijklmno", "abcdefghijklmnop"].map(String::from).to_vec();
        assert_eq!(columns(&names), "\nx               abcdefghijklmno                 abcdefghijklmnop\n");
        let names: Vec<String> =
            ["IOQueue", "Lock", "Loop", "SingletonGenerator", "StreamReader", "StreamWriter"].map(String::from).to_vec();
        assert_eq!(
            columns(&names),
            "\nIOQueue         Lock            Loop\nSingletonGenerator              StreamReader    StreamWriter\n"
        );
    }

    #[test]
    fn rustyline_history_entries_are_unescaped() {
        assert_eq!(unescape(r#"print("a\\nb")"#), r#"print("a\nb")"#);
        assert_eq!(unescape(r"for i in x:\n    pass"), "for i in x:\n    pass");
    }

    #[test]
    fn cursor_moves_back_by_backspaces_then_by_escape_sequence() {
        let mut out = Vec::new();
        cursor_back(&mut out, 3);
        cursor_back(&mut out, 12);
        assert_eq!(out, b"\x08\x08\x08\x1b[12D");
    }
}
