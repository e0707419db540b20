//! Stimulus files: input changes at given times, for testing button and sensor scripts with no
//! hardware.
//!
//! One change per line, `TIME TARGET = LEVEL`; `#` starts a comment:
//!
//! ```text
//! # press the user switch for 80 ms, then toggle pin 5
//! 100ms   switch = 1
//! +80ms   switch = 0
//! 1.5s    pin 5 = 0
//! 1500250us pin X1 = 1
//! ```
//!
//! - TIME is a number with a unit, `us`, `ms` or `s`, counted from the start of the run; a
//!   leading `+` makes it relative to the line before. Times never go backwards.
//! - TARGET is `pin ID` (`5`, `X1`, `'X1'`) or `switch` (`pyb.Switch`, 1 meaning pressed).
//! - LEVEL is `0`, `1`, `low` or `high`.
//!
//! A stimulus drives a line from outside: an input reads it, overriding its pull; an output
//! ignores it.

use std::fmt;

use super::PinId;

/// One scheduled input change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StimulusEvent {
    /// When, in microseconds from the start of the run.
    pub t_us: u64,
    /// The line driven.
    pub id: PinId,
    /// The level it is driven to.
    pub level: bool,
}

/// A parsed stimulus file: its events in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stimulus {
    /// The changes, oldest first.
    pub events: Vec<StimulusEvent>,
}

/// A line of a stimulus file that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StimulusError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for StimulusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for StimulusError {}

impl Stimulus {
    /// Parses stimulus text; the first bad line is an error naming its number.
    pub fn parse(text: &str) -> Result<Stimulus, StimulusError> {
        let mut events = Vec::new();
        let mut last_us = 0u64;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let err = |message: String| StimulusError { line, message };
            let (lhs, level) = content
                .split_once('=')
                .ok_or_else(|| err(format!("expected `TIME pin ID = LEVEL`, got `{content}`")))?;
            let level = match level.trim() {
                "1" | "high" => true,
                "0" | "low" => false,
                other => return Err(err(format!("level must be 0, 1, low or high, not `{other}`"))),
            };
            let mut words = lhs.split_whitespace();
            let time = words.next().ok_or_else(|| err("missing time".to_owned()))?;
            let (relative, time) = match time.strip_prefix('+') {
                Some(rest) => (true, rest),
                None => (false, time),
            };
            let t = parse_time(time).ok_or_else(|| {
                err(format!("time must be a number with a unit (us, ms or s), like `120ms`, not `{time}`"))
            })?;
            let t_us = if relative { last_us.saturating_add(t) } else { t };
            if t_us < last_us {
                return Err(err(format!(
                    "{time} is earlier than the line before ({} us); times never go backwards",
                    last_us
                )));
            }
            let id = match (words.next(), words.next(), words.next()) {
                (Some("switch"), None, _) => PinId::Switch,
                (Some("pin"), Some(id), None) => PinId::parse(id)
                    .filter(|id| matches!(id, PinId::Num(_) | PinId::Name(_)))
                    .ok_or_else(|| err(format!("`{id}` is not a pin id")))?,
                _ => {
                    return Err(err(format!(
                        "target must be `pin ID` or `switch`, not `{}`",
                        lhs.trim().trim_start_matches(time).trim()
                    )));
                }
            };
            last_us = t_us;
            events.push(StimulusEvent { t_us, id, level });
        }
        Ok(Stimulus { events })
    }
}

/// `120ms` → 120000, `1.5s` → 1500000, `250us` → 250.
fn parse_time(text: &str) -> Option<u64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e6)
    } else {
        return None;
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some((value * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let text = "# a comment\n\n100ms switch = 1\n+80ms switch = 0   # released\n1.5s pin 5 = low\n1500250us pin 'X1' = high\n+0s pin X2 = 1\n";
        let s = Stimulus::parse(text).unwrap();
        let ev = |t_us, id, level| StimulusEvent { t_us, id, level };
        assert_eq!(
            s.events,
            vec![
                ev(100_000, PinId::Switch, true),
                ev(180_000, PinId::Switch, false),
                ev(1_500_000, PinId::Num(5), false),
                ev(1_500_250, PinId::Name("X1".into()), true),
                ev(1_500_250, PinId::Name("X2".into()), true),
            ]
        );
    }

    #[test]
    fn bad_lines_name_their_number_and_problem() {
        let cases = [
            ("100 pin 5 = 1", 1, "time must be a number with a unit (us, ms or s), like `120ms`, not `100`"),
            ("\n10ms pin 5 = 2", 2, "level must be 0, 1, low or high, not `2`"),
            ("10ms pin 5", 1, "expected `TIME pin ID = LEVEL`, got `10ms pin 5`"),
            ("10ms led 1 = 1", 1, "target must be `pin ID` or `switch`, not `led 1`"),
            ("20ms pin 5 = 1\n10ms pin 5 = 0", 2, "10ms is earlier than the line before (20000 us); times never go backwards"),
            ("10ms pin LED(1) = 0", 1, "`LED(1)` is not a pin id"),
            ("-5ms pin 1 = 0", 1, "time must be a number with a unit (us, ms or s), like `120ms`, not `-5ms`"),
        ];
        for (text, line, message) in cases {
            let e = Stimulus::parse(text).unwrap_err();
            assert_eq!((e.line, e.message.as_str()), (line, message), "{text:?}");
        }
        assert_eq!(
            Stimulus::parse("x").unwrap_err().to_string(),
            "line 1: expected `TIME pin ID = LEVEL`, got `x`"
        );
    }
}
