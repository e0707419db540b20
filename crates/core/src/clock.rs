//! Time sources behind a trait, in the spirit of trio's `SystemClock` and `MockClock`.
//!
//! The scheduler reads time only through [`Clock`], so tests and
//! deterministic runs can swap the wall clock for a [`ManualClock`] that an
//! idle loop fast-forwards to the next deadline instead of sleeping.

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
