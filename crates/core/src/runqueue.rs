//! The run loop's one queue of tasks ordered by time, as MicroPython's `_task_queue`.
//!
//! MicroPython keeps every scheduled task in one pairing heap keyed by a tick count: a task made
//! ready is pushed with the current time, a sleeping task with its deadline, and the loop pops
//! the earliest key, ties in push order. [`RunQueue`] gives the same order with two structures
//! that are cheaper for the common cases: items pushed "now" go to a FIFO (their keys never
//! decrease, so it stays sorted), items pushed for later go to a [`TimerQueue`]. Both take
//! their sequence numbers from the timer queue's counter, so the head of the merged queue is
//! the smaller of the two heads by `(key, seq)`.
//!
//! A key of an item pushed now only matters against timers: while no timer is pending the
//! caller may push with any key no larger than the true time (see [`RunQueue::needs_now`]).
//! A timer pushed afterwards has a deadline after the true push time of every such item, so
//! the comparisons come out as they would with exact keys.

use std::collections::VecDeque;

use crate::timer::{TimerKey, TimerQueue};

/// Tasks ordered by the time they become due, ties in push order.
#[derive(Debug)]
pub struct RunQueue<T> {
    /// Items pushed with the current time, oldest first: `(key, seq, item)`.
    due: VecDeque<(u64, u64, T)>,
    /// Items pushed with a deadline (sleeps).
    later: TimerQueue<T>,
}

impl<T> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RunQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        RunQueue { due: VecDeque::new(), later: TimerQueue::new() }
    }

    /// Whether [`RunQueue::push_now`] needs the true current time: only when a timer is
    /// pending can an item's key change what is popped first.
    pub fn needs_now(&self) -> bool {
        !self.later.is_empty()
    }

    /// Queues `item` as due at `now_us` (MicroPython's `push(task)`).
    pub fn push_now(&mut self, now_us: u64, item: T) {
        let seq = self.later.take_seq();
        self.due.push_back((now_us, seq, item));
    }

    /// Queues `item` to become due at `deadline_us` (MicroPython's `push(task, key)`); the key
    /// takes it out again.
    pub fn push_at(&mut self, deadline_us: u64, item: T) -> TimerKey {
        self.later.push(deadline_us, item)
    }

    /// Takes out an item pushed with [`RunQueue::push_at`], if it is still queued.
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        self.later.remove(key)
    }

    /// Pops the earliest item if it is due at `now_us`.
    pub fn pop_due(&mut self, now_us: u64) -> Option<T> {
        let timer_first = match (self.due.front(), self.later.peek()) {
            (Some(&(key, seq, _)), Some(timer)) => timer < (key, seq),
            (None, Some((deadline, _))) => deadline <= now_us,
            (_, None) => false,
        };
        if timer_first {
            return self.later.pop_expired(u64::MAX).map(|(_, item)| item);
        }
        self.due.pop_front().map(|(_, _, item)| item)
    }

    /// When the head becomes due: `Some(0)` if something is due already, the earliest deadline
    /// if only timers are queued, `None` if the queue is empty.
    pub fn next_due(&self) -> Option<u64> {
        if !self.due.is_empty() {
            return Some(0);
        }
        self.later.peek_deadline()
    }

    /// Whether any item is pushed "now" and waiting.
    pub fn has_due(&self) -> bool {
        !self.due.is_empty()
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.due.len() + self.later.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.due.is_empty() && self.later.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut RunQueue<&'static str>, now: u64) -> Vec<&'static str> {
        std::iter::from_fn(|| q.pop_due(now)).collect()
    }

    #[test]
    fn ready_items_run_in_push_order() {
        let mut q = RunQueue::new();
        for name in ["a", "b", "c"] {
            q.push_now(0, name);
        }
        assert_eq!(drain(&mut q, 0), ["a", "b", "c"]);
        assert!(q.is_empty());
    }

    #[test]
    fn an_expired_timer_runs_before_items_pushed_after_its_deadline() {
        let mut q = RunQueue::new();
        q.push_at(10, "timer");
        q.push_now(5, "early");
        q.push_now(12, "late");
        assert_eq!(drain(&mut q, 12), ["early", "timer", "late"]);
    }

    #[test]
    fn equal_keys_run_in_push_order() {
        let mut q = RunQueue::new();
        q.push_at(10, "timer");
        q.push_now(10, "ready");
        q.push_at(10, "timer2");
        assert_eq!(drain(&mut q, 10), ["timer", "ready", "timer2"]);
    }

    #[test]
    fn timers_wait_for_their_deadline() {
        let mut q = RunQueue::new();
        let key = q.push_at(20, "b");
        q.push_at(10, "a");
        assert_eq!(q.next_due(), Some(10));
        assert_eq!(drain(&mut q, 9), Vec::<&str>::new());
        assert_eq!(drain(&mut q, 15), ["a"]);
        assert_eq!(q.remove(key), Some("b"));
        assert_eq!(q.next_due(), None);
    }

    #[test]
    fn stale_keys_pushed_without_timers_keep_the_order() {
        // Pushed while no timer was pending, with key 0 instead of the true time 100.
        let mut q = RunQueue::new();
        assert!(!q.needs_now());
        q.push_now(0, "a");
        q.push_at(150, "timer");
        assert!(q.needs_now());
        q.push_now(160, "b");
        assert_eq!(drain(&mut q, 160), ["a", "timer", "b"]);
    }
}
