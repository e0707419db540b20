//! Time sources behind a trait, in the spirit of trio's `SystemClock` and `MockClock`.
//!
//! The scheduler reads time only through [`Clock`], so tests and
//! deterministic runs can swap the wall clock for a [`ManualClock`] that an
//! idle loop fast-forwards to the next deadline instead of sleeping, or for a [`VirtualClock`]
//! that a program polling it also moves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A monotonic source of microseconds.
pub trait Clock: Send + Sync {
    /// Monotonic microseconds since the clock's epoch.
    fn now_us(&self) -> u64;

    /// True for a manual clock: an idle loop advances it instead of sleeping.
    fn is_manual(&self) -> bool {
        false
    }

    /// Manual clocks jump to `t_us` (never backwards); real clocks ignore it.
    fn advance_to(&self, _t_us: u64) {}

    /// The time as the program reads it (`time.ticks_us()` and the like), `reader` naming
    /// who reads (a task). The same as [`now_us`](Clock::now_us) but for a [`VirtualClock`],
    /// where a reader polling the clock moves it.
    fn read_us(&self, _reader: u64) -> u64 {
        self.now_us()
    }
}

/// The real monotonic clock, counting from the moment it was created.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    /// The instant that reads as 0 µs, so values start small like a board's tick counter.
    epoch: Instant,
}

impl SystemClock {
    /// Creates a clock whose epoch is now.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// A clock that only moves when told to; share it through an `Arc` to drive it from outside the loop.
#[derive(Debug, Default)]
pub struct ManualClock {
    /// Current time in microseconds; atomic so the clock is `Sync` and can be advanced from any thread.
    now: AtomicU64,
}

impl ManualClock {
    /// Creates a clock that reads `start_us` until moved.
    pub fn new(start_us: u64) -> Self {
        Self {
            now: AtomicU64::new(start_us),
        }
    }

    /// Moves the clock to `t_us`, or leaves it alone if it already reads later.
    pub fn set(&self, t_us: u64) {
        self.now.fetch_max(t_us, Ordering::AcqRel);
    }

    /// Moves the clock forward by `by_us`, saturating at `u64::MAX`.
    pub fn advance(&self, by_us: u64) {
        let _ = self
            .now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(by_us))
            });
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> u64 {
        self.now.load(Ordering::Acquire)
    }

    fn is_manual(&self) -> bool {
        true
    }

    fn advance_to(&self, t_us: u64) {
        self.set(t_us);
    }
}

/// Reads of one instant after which a [`VirtualClock`] takes the program to be busy-waiting.
pub const BUSY_READS: u32 = 100;

/// The clock of `--virtual-time`: a [`ManualClock`] that the idle loop moves to the next
/// deadline, and that a program polling it also moves. Time stands still while the program
/// computes, so timestamps are exact and every run prints the same; but a program that waits by
/// reading the clock (`while ticks_diff(deadline, ticks_ms()) > 0: ...`, with or without
/// `await asyncio.sleep(0)`) would wait forever on a clock only sleeps move. So from a
/// reader's [`BUSY_READS`]th read of one instant on, each of its reads moves the clock forward
/// by a microsecond, about the time a read and its loop take in Python: the poll ends after
/// the same number of microseconds it would wait on a board. Many tasks reading the clock
/// once each at one instant move nothing.
#[derive(Debug, Default)]
pub struct VirtualClock {
    clock: ManualClock,
    polls: std::sync::Mutex<Polls>,
}

/// Who read a [`VirtualClock`] how often since time last moved by itself.
#[derive(Debug, Default)]
struct Polls {
    /// The instant the counts are for: the clock's time after the last read.
    instant: u64,
    /// Reads per reader.
    counts: std::collections::HashMap<u64, u32>,
}

impl VirtualClock {
    /// A clock that reads `start_us` until moved.
    pub fn new(start_us: u64) -> Self {
        VirtualClock {
            clock: ManualClock::new(start_us),
            polls: std::sync::Mutex::new(Polls { instant: start_us, counts: Default::default() }),
        }
    }
}

impl Clock for VirtualClock {
    fn now_us(&self) -> u64 {
        self.clock.now_us()
    }

    fn is_manual(&self) -> bool {
        true
    }

    fn advance_to(&self, t_us: u64) {
        self.clock.set(t_us);
    }

    fn read_us(&self, reader: u64) -> u64 {
        let now = self.clock.now_us();
        let mut polls = self.polls.lock().unwrap_or_else(|e| e.into_inner());
        if polls.instant != now {
            // Time moved by itself (a sleep ended): nobody has polled the new instant yet.
            polls.instant = now;
            polls.counts.clear();
        }
        let reads = polls.counts.entry(reader).or_insert(0);
        *reads = reads.saturating_add(1);
        if *reads >= BUSY_READS {
            // Polling: this read moves the clock, and the poller's counts carry over to the new
            // instant, so its next read moves it too.
            polls.instant = now.saturating_add(1);
            self.clock.set(polls.instant);
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn manual_clock_moves_only_forward() {
        let clock = ManualClock::new(1_000);
        assert!(clock.is_manual());
        assert_eq!(clock.now_us(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_us(), 1_500);
        clock.set(1_200);
        assert_eq!(clock.now_us(), 1_500);
        clock.advance_to(1_499);
        assert_eq!(clock.now_us(), 1_500);
        clock.advance_to(2_000);
        assert_eq!(clock.now_us(), 2_000);
        clock.set(3_000);
        assert_eq!(clock.now_us(), 3_000);
        clock.advance(u64::MAX);
        assert_eq!(clock.now_us(), u64::MAX);
    }

    #[test]
    fn manual_clock_default_starts_at_zero_and_is_shareable() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
        assert_eq!(clock.now_us(), 0);
        let other = Arc::clone(&clock);
        std::thread::spawn(move || other.advance_to(42))
            .join()
            .unwrap();
        assert_eq!(clock.now_us(), 42);
    }

    #[test]
    fn virtual_clock_stands_still_until_polled() {
        let clock = VirtualClock::new(1_000);
        assert!(clock.is_manual());
        for _ in 0..BUSY_READS - 1 {
            assert_eq!(clock.read_us(7), 1_000, "a few reads of an instant leave it alone");
        }
        // Many readers reading once each move nothing.
        for reader in 100..1_000 {
            assert_eq!(clock.read_us(reader), 1_000);
        }
        // From a reader's BUSY_READSth read on, each of its reads moves the clock a microsecond.
        assert_eq!(clock.read_us(7), 1_000);
        assert_eq!(clock.now_us(), 1_001);
        assert_eq!(clock.read_us(7), 1_001);
        assert_eq!(clock.read_us(7), 1_002);
        // A jump (the idle loop) starts the counts again.
        clock.advance_to(5_000);
        for _ in 0..BUSY_READS - 1 {
            assert_eq!(clock.read_us(7), 5_000);
        }
        // A busy-wait of 50 ms ends after 50,000 reads or so.
        let deadline = 55_000;
        let mut reads = 0;
        while clock.read_us(7) < deadline {
            reads += 1;
        }
        assert_eq!(reads, 50_000);
        // Two tasks polling in turn both count.
        clock.advance_to(60_000);
        let mut turns = 0;
        while clock.read_us(1) < 60_010 {
            clock.read_us(2);
            turns += 1;
        }
        assert_eq!(turns, BUSY_READS as usize - 1 + 10 / 2);
        // Reads from the loop itself do not count.
        let still = clock.now_us();
        for _ in 0..1_000 {
            assert_eq!(clock.now_us(), still);
        }
    }

    #[test]
    fn system_clock_is_monotonic_and_ignores_advance() {
        let clock = SystemClock::new();
        assert!(!clock.is_manual());
        let start = clock.now_us();
        clock.advance_to(u64::MAX);
        let mut prev = clock.now_us();
        assert!(prev >= start && prev < 60_000_000);
        for _ in 0..10_000 {
            let now = clock.now_us();
            assert!(now >= prev);
            prev = now;
        }
    }

    #[test]
    fn system_clock_tracks_real_time() {
        let clock = SystemClock::default();
        let before = clock.now_us();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let elapsed = clock.now_us() - before;
        assert!((5_000..5_000_000).contains(&elapsed), "elapsed {elapsed}");
    }
}
