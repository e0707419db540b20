//! A first-in, first-out queue whose entries can also leave from the middle.
//!
//! [`WaitQueue`] holds the tasks waiting on an Event or a Lock. They are woken oldest first,
//! and a waiter that is cancelled or times out leaves the queue at once, wherever it stands.
//! Each push returns a [`WaitKey`]. Entries sit in push order, so a key is found by binary
//! search, and removal leaves a tombstone that is dropped when it reaches either end, or swept
//! in bulk once tombstones outnumber live entries (as [`crate::TimerQueue`] does). Cancelling
//! every one of n waiters costs O(n log n), where searching a list for each cost O(n^2); the
//! common path, push and take, stays a ring buffer's.

use std::collections::VecDeque;

/// Tombstones tolerated beyond the live count before the queue is swept.
const SWEEP_SLACK: usize = 64;

/// Handle to a pushed entry; removes nothing once its entry has left the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WaitKey(u64);

/// FIFO queue with removal by key.
#[derive(Debug)]
pub struct WaitQueue<T> {
    /// Entries oldest first under their push numbers, which therefore increase along the
    /// queue; `None` is a removed entry's tombstone. Neither end is ever a tombstone.
    entries: VecDeque<(u64, Option<T>)>,
    /// Push number of the next entry; strictly increasing and never reset, so a key never
    /// matches a later entry, even after [`WaitQueue::take_all`].
    next: u64,
    /// Number of live entries, since `entries` counts tombstones too.
    live: usize,
}

impl<T> Default for WaitQueue<T> {
    fn default() -> Self {
        WaitQueue { entries: VecDeque::new(), next: 0, live: 0 }
    }
}

impl<T> WaitQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item` at the back; the key removes it later.
    pub fn push_back(&mut self, item: T) -> WaitKey {
        let key = self.next;
        self.next += 1;
        self.entries.push_back((key, Some(item)));
        self.live += 1;
        WaitKey(key)
    }

    /// Takes the oldest entry.
    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.entries.pop_front()?.1;
        self.live -= 1;
        self.trim();
        item
    }

    /// Takes the entry `key` was returned for, if it is still queued.
    pub fn remove(&mut self, key: WaitKey) -> Option<T> {
        let index = self.entries.binary_search_by_key(&key.0, |(k, _)| *k).ok()?;
        let item = self.entries[index].1.take()?;
        self.live -= 1;
        self.trim();
        if self.entries.len() - self.live > self.live + SWEEP_SLACK {
            self.entries.retain(|(_, item)| item.is_some());
        }
        Some(item)
    }

    /// Takes every entry, oldest first, leaving the queue empty.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> + use<T> {
        self.live = 0;
        std::mem::take(&mut self.entries).into_iter().filter_map(|(_, item)| item)
    }

    /// The queued entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|(_, item)| item.as_ref())
    }

    /// The queued entries with their keys, oldest first.
    pub fn iter_keyed(&self) -> impl Iterator<Item = (WaitKey, &T)> {
        self.entries.iter().filter_map(|(key, item)| item.as_ref().map(|item| (WaitKey(*key), item)))
    }

    /// How many entries are queued.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no entry is queued.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Drops tombstones from both ends, so that `pop_front` finds a live entry first.
    fn trim(&mut self) {
        while self.entries.front().is_some_and(|(_, item)| item.is_none()) {
            self.entries.pop_front();
        }
        while self.entries.back().is_some_and(|(_, item)| item.is_none()) {
            self.entries.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_leave_oldest_first() {
        let mut q = WaitQueue::new();
        for c in ['a', 'b', 'c'] {
            q.push_back(c);
        }
        assert_eq!(q.pop_front(), Some('a'));
        q.push_back('d');
        assert_eq!(q.take_all().collect::<String>(), "bcd");
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn removal_from_the_middle_keeps_the_order_of_the_rest() {
        let mut q = WaitQueue::new();
        let keys: Vec<WaitKey> = (0..5).map(|i| q.push_back(i)).collect();
        assert_eq!(q.remove(keys[2]), Some(2));
        assert_eq!(q.remove(keys[0]), Some(0));
        assert_eq!(q.len(), 3);
        assert_eq!(q.take_all().collect::<Vec<_>>(), [1, 3, 4]);
    }

    #[test]
    fn tombstones_are_swept_and_never_returned() {
        let mut q = WaitQueue::new();
        let keys: Vec<WaitKey> = (0..1000).map(|i| q.push_back(i)).collect();
        // Every entry but each tenth leaves from the middle: far more tombstones than the
        // slack, so the queue is swept on the way.
        for (i, key) in keys.iter().enumerate() {
            if i % 10 != 0 && i != 999 {
                assert_eq!(q.remove(*key), Some(i));
            }
        }
        assert_eq!(q.len(), 101);
        assert!(q.entries.len() <= 2 * q.len() + SWEEP_SLACK, "{} slots kept", q.entries.len());
        assert_eq!(q.remove(keys[5]), None, "removed already");
        assert_eq!(q.pop_front(), Some(0));
        let rest: Vec<usize> = q.take_all().collect();
        assert_eq!(rest.len(), 100);
        assert!(rest.iter().take(99).enumerate().all(|(n, v)| *v == 10 * (n + 1)));
        assert_eq!(rest[99], 999);
    }

    #[test]
    fn a_key_never_removes_a_later_entry() {
        let mut q = WaitQueue::new();
        let first = q.push_back("first");
        assert_eq!(q.pop_front(), Some("first"));
        assert_eq!(q.remove(first), None, "popped already");
        let taken = q.push_back("taken");
        assert_eq!(q.take_all().collect::<Vec<_>>(), ["taken"]);
        let later = q.push_back("later");
        assert_eq!(q.remove(first), None);
        assert_eq!(q.remove(taken), None, "keys go on counting after take_all");
        assert_eq!(q.remove(later), Some("later"));
        assert!(q.is_empty());
    }
}
