//! MicroPython's wrap-around tick arithmetic.
//!
//! `time.ticks_ms()` and friends return values in `[0, TICKS_PERIOD)` that wrap
//! around, so they may only be compared through [`ticks_diff`] and advanced
//! through [`ticks_add`]. The formulas are MicroPython's; the period is that of
//! MicroPython's 64-bit unix port (`MICROPY_PY_TIME_TICKS_PERIOD` = 2^62, the small-int
//! range), which microloop stands in for. Microcontroller ports use 2^30; scripts written
//! with `ticks_diff`/`ticks_add` behave the same under either period.

/// Number of distinct tick values; ticks wrap to 0 after `TICKS_MAX`.
pub const TICKS_PERIOD: i64 = 1 << 62;

/// Largest tick value, also the mask that reduces a count into a tick.
pub const TICKS_MAX: i64 = TICKS_PERIOD - 1;

/// Half the period: [`ticks_diff`] results lie in `[-TICKS_HALFPERIOD, TICKS_HALFPERIOD)`.
pub const TICKS_HALFPERIOD: i64 = TICKS_PERIOD / 2;

/// Reduces a monotonic count (milliseconds, microseconds, ...) into a tick in `[0, TICKS_PERIOD)`.
pub fn ticks_wrap(t: u64) -> i64 {
    (t & TICKS_MAX as u64) as i64
}

/// Returns `ticks + delta` wrapped into `[0, TICKS_PERIOD)`; `delta` may be negative.
///
/// MicroPython raises `OverflowError` when `|delta|` is outside the half period;
/// that check belongs to the binding, this function simply wraps.
pub fn ticks_add(ticks: i64, delta: i64) -> i64 {
    ticks.wrapping_add(delta) & TICKS_MAX
}

/// Returns the signed distance from `start` to `end`, in `[-TICKS_HALFPERIOD, TICKS_HALFPERIOD)`.
///
/// A positive result means `end` is after `start`, even across a wrap.
pub fn ticks_diff(end: i64, start: i64) -> i64 {
    (end.wrapping_sub(start).wrapping_add(TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn wrap_reduces_into_period() {
        assert_eq!(ticks_wrap(0), 0);
        assert_eq!(ticks_wrap(TICKS_MAX as u64), TICKS_MAX);
        assert_eq!(ticks_wrap(TICKS_PERIOD as u64), 0);
        assert_eq!(ticks_wrap(TICKS_PERIOD as u64 + 5), 5);
        assert_eq!(ticks_wrap(u64::MAX), TICKS_MAX);
    }

    #[test]
    fn add_wraps_both_ways() {
        assert_eq!(ticks_add(TICKS_MAX, 1), 0);
        assert_eq!(ticks_add(0, -1), TICKS_MAX);
        assert_eq!(ticks_add(100, 23), 123);
        assert_eq!(ticks_add(5, -TICKS_PERIOD), 5);
        assert_eq!(ticks_add(TICKS_MAX, TICKS_HALFPERIOD), TICKS_HALFPERIOD - 1);
        assert_eq!(ticks_add(i64::MAX, 1), 0);
    }

    #[test]
    fn diff_is_signed_across_wrap() {
        assert_eq!(ticks_diff(0, TICKS_MAX), 1);
        assert_eq!(ticks_diff(TICKS_MAX, 0), -1);
        assert_eq!(ticks_diff(10, 3), 7);
        assert_eq!(ticks_diff(3, 10), -7);
        assert_eq!(ticks_diff(TICKS_HALFPERIOD, 0), -TICKS_HALFPERIOD);
        assert_eq!(ticks_diff(TICKS_HALFPERIOD - 1, 0), TICKS_HALFPERIOD - 1);
        assert_eq!(ticks_diff(5, 5), 0);
    }

    #[test]
    fn random_pairs_match_reference() {
        let mut state = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            let a = (xorshift(&mut state) % TICKS_PERIOD as u64) as i64;
            let b = (xorshift(&mut state) % TICKS_PERIOD as u64) as i64;
            let d = (xorshift(&mut state) % TICKS_PERIOD as u64) as i64 - TICKS_HALFPERIOD;

            let r = (a - b).rem_euclid(TICKS_PERIOD);
            let expected = if r >= TICKS_HALFPERIOD {
                r - TICKS_PERIOD
            } else {
                r
            };
            assert_eq!(ticks_diff(a, b), expected, "ticks_diff({a}, {b})");

            let sum = ticks_add(a, d);
            assert_eq!(sum, (a + d).rem_euclid(TICKS_PERIOD), "ticks_add({a}, {d})");
            assert_eq!(ticks_diff(sum, a), d, "round trip {a} + {d}");
        }
    }
}
