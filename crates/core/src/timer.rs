//! A cancellable min-queue of items keyed by deadline.
//!
//! [`TimerQueue`] orders items by deadline in microseconds, breaking ties in
//! push order, which is what asyncio's `sleep_ms(0)`/`call_soon` fairness
//! relies on. Cancellation is lazy: [`TimerQueue::remove`] empties the item's
//! slab slot at once and leaves its heap entry behind as a tombstone that is
//! skipped when it reaches the top, or swept in bulk once tombstones outnumber
//! live timers. The top of the heap is always live, so peeking needs no `&mut`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Tombstones tolerated beyond the live count before the heap is swept.
const SWEEP_SLACK: usize = 64;

/// Handle to a pushed item, used to cancel it; stays invalid once its item is popped or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerKey {
    /// Slab slot holding the item.
    index: u32,
    /// Push sequence number, acting as the slot's generation so a key never matches a later occupant.
    seq: u64,
}

/// Heap entry; derived ordering compares deadline first, then push order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// When the item becomes due, in microseconds.
    deadline_us: u64,
    /// Push sequence number: the FIFO tie-break and the liveness check against the slot.
    seq: u64,
    /// Slab slot holding the item.
    index: u32,
}

/// One slab cell.
#[derive(Debug)]
struct Slot<T> {
    /// Sequence number of the latest push into this slot, matched against keys and heap entries.
    seq: u64,
    /// The pending item, `None` while the slot is on the free list.
    item: Option<T>,
}

/// Min-queue of items by deadline with FIFO tie-break and O(log n) cancellation.
#[derive(Debug)]
pub struct TimerQueue<T> {
    /// Min-heap of deadlines, possibly holding tombstones of removed items below the top.
    heap: BinaryHeap<Reverse<Entry>>,
    /// Item storage indexed by `TimerKey::index`, so removal never searches the heap.
    slots: Vec<Slot<T>>,
    /// Vacant slot indices, reused before the slab grows.
    free: Vec<u32>,
    /// Sequence number for the next push; strictly increasing, never reused.
    next_seq: u64,
    /// Number of live items, since the heap length counts tombstones too.
    len: usize,
}

/// True if `entry` still refers to the item in its slot rather than to a removed or popped one.
fn is_live<T>(slots: &[Slot<T>], entry: &Entry) -> bool {
    let slot = &slots[entry.index as usize];
    slot.seq == entry.seq && slot.item.is_some()
}

impl<T> TimerQueue<T> {
    /// Creates an empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Creates an empty queue with room for `capacity` timers before reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(capacity),
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            next_seq: 0,
            len: 0,
        }
    }

    /// Queues `item` to become due at `deadline_us` and returns the key that cancels it.
    ///
    /// # Panics
    ///
    /// If more than `u32::MAX` items are pending at once.
    pub fn push(&mut self, deadline_us: u64, item: T) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = Slot {
                    seq,
                    item: Some(item),
                };
                index
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("too many pending timers");
                self.slots.push(Slot {
                    seq,
                    item: Some(item),
                });
                index
            }
        };
        self.heap.push(Reverse(Entry {
            deadline_us,
            seq,
            index,
        }));
        self.len += 1;
        TimerKey { index, seq }
    }

    /// Cancels the item behind `key` and returns it, or `None` if it was already popped or removed.
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.seq != key.seq {
            return None;
        }
        let item = slot.item.take()?;
        self.free.push(key.index);
        self.len -= 1;
        self.drop_tombstones();
        Some(item)
    }

    /// Deadline of the earliest pending item.
    pub fn peek_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(entry)| entry.deadline_us)
    }

    /// Deadline and push sequence number of the earliest pending item.
    pub fn peek(&self) -> Option<(u64, u64)> {
        self.heap.peek().map(|Reverse(entry)| (entry.deadline_us, entry.seq))
    }

    /// Takes the next sequence number without pushing, so that a caller merging this queue
    /// with another can order both by one counter (see [`crate::RunQueue`]).
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Pops the earliest item if its deadline is at or before `now_us`.
    pub fn pop_expired(&mut self, now_us: u64) -> Option<(TimerKey, T)> {
        let &Reverse(head) = self.heap.peek()?;
        if head.deadline_us > now_us {
            return None;
        }
        self.heap.pop();
        let item = self.slots[head.index as usize]
            .item
            .take()
            .expect("heap top is live");
        self.free.push(head.index);
        self.len -= 1;
        self.drop_tombstones();
        Some((
            TimerKey {
                index: head.index,
                seq: head.seq,
            },
            item,
        ))
    }

    /// Number of pending items, not counting removed ones.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no item is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Restores the live-top invariant and sweeps the heap when tombstones dominate.
    fn drop_tombstones(&mut self) {
        while let Some(Reverse(head)) = self.heap.peek() {
            if is_live(&self.slots, head) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 2 * self.len + SWEEP_SLACK {
            let slots = &self.slots;
            self.heap.retain(|Reverse(entry)| is_live(slots, entry));
        }
    }
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut TimerQueue<u32>, now: u64) -> Vec<u32> {
        std::iter::from_fn(|| q.pop_expired(now).map(|(_, v)| v)).collect()
    }

    #[test]
    fn pops_in_deadline_order() {
        let mut q = TimerQueue::new();
        for (d, v) in [(30, 3), (10, 1), (50, 5), (20, 2), (40, 4)] {
            q.push(d, v);
        }
        assert_eq!(q.len(), 5);
        assert_eq!(q.peek_deadline(), Some(10));
        assert_eq!(q.pop_expired(9), None);
        assert_eq!(drain(&mut q, 35), [1, 2, 3]);
        assert_eq!(q.peek_deadline(), Some(40));
        assert_eq!(drain(&mut q, u64::MAX), [4, 5]);
        assert!(q.is_empty());
        assert_eq!(q.peek_deadline(), None);
        assert_eq!(q.pop_expired(u64::MAX), None);
    }

    #[test]
    fn equal_deadlines_are_fifo() {
        let mut q = TimerQueue::new();
        for v in 0..100 {
            q.push(if v % 2 == 0 { 7 } else { 3 }, v);
        }
        let got = drain(&mut q, 7);
        let odds = (0..100).filter(|v| v % 2 == 1);
        let evens = (0..100).filter(|v| v % 2 == 0);
        assert_eq!(got, odds.chain(evens).collect::<Vec<_>>());
    }

    #[test]
    fn pop_returns_the_push_key() {
        let mut q = TimerQueue::new();
        let a = q.push(1, 'a');
        let b = q.push(2, 'b');
        assert_ne!(a, b);
        assert_eq!(q.pop_expired(5), Some((a, 'a')));
        assert_eq!(q.pop_expired(5), Some((b, 'b')));
        assert_eq!(q.remove(a), None);
    }

    #[test]
    fn removed_items_are_skipped() {
        let mut q = TimerQueue::new();
        let a = q.push(10, 1);
        let b = q.push(20, 2);
        let c = q.push(30, 3);
        assert_eq!(q.remove(a), Some(1));
        assert_eq!(q.remove(a), None);
        assert_eq!(q.len(), 2);
        assert_eq!(q.peek_deadline(), Some(20));
        assert_eq!(q.remove(c), Some(3));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_expired(100), Some((b, 2)));
        assert_eq!(q.pop_expired(100), None);
        assert!(q.is_empty());
        assert_eq!(q.peek_deadline(), None);
    }

    #[test]
    fn stale_key_does_not_remove_reused_slot() {
        let mut q = TimerQueue::new();
        let old = q.push(10, 1);
        assert_eq!(q.remove(old), Some(1));
        let new = q.push(10, 2);
        assert_eq!(new.index, old.index);
        assert_eq!(q.remove(old), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_expired(10), Some((new, 2)));

        let popped = q.push(5, 3);
        assert_eq!(q.pop_expired(5), Some((popped, 3)));
        let reused = q.push(6, 4);
        assert_eq!(q.remove(popped), None);
        assert_eq!(q.remove(reused), Some(4));
    }

    #[test]
    fn tombstones_are_swept() {
        let mut q = TimerQueue::new();
        q.push(0, 0);
        let keys: Vec<_> = (1..10_000).map(|v| q.push(1_000 + v as u64, v)).collect();
        for key in keys {
            q.remove(key);
        }
        assert_eq!(q.len(), 1);
        assert!(
            q.heap.len() <= 2 + SWEEP_SLACK,
            "heap holds {}",
            q.heap.len()
        );
        assert_eq!(drain(&mut q, u64::MAX), [0]);
    }

    #[test]
    fn matches_reference_model() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut q = TimerQueue::new();
        let mut model: Vec<(u64, u64, TimerKey, u32)> = Vec::new();
        let mut dead: Vec<TimerKey> = Vec::new();
        let mut now = 0u64;
        for step in 0..200_000u32 {
            match rng() % 10 {
                0..=4 => {
                    let deadline = now + rng() % 64;
                    let key = q.push(deadline, step);
                    model.push((deadline, key.seq, key, step));
                }
                5 | 6 if !model.is_empty() => {
                    let i = (rng() % model.len() as u64) as usize;
                    let (_, _, key, v) = model.swap_remove(i);
                    assert_eq!(q.remove(key), Some(v));
                    dead.push(key);
                }
                7 if !dead.is_empty() => {
                    let key = dead[(rng() % dead.len() as u64) as usize];
                    assert_eq!(q.remove(key), None);
                }
                _ => {
                    now += rng() % 8;
                    let best = model
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.0 <= now)
                        .min_by_key(|(_, e)| (e.0, e.1))
                        .map(|(i, _)| i);
                    let expected = best
                        .map(|i| model.swap_remove(i))
                        .map(|(_, _, k, v)| (k, v));
                    let got = q.pop_expired(now);
                    assert_eq!(got, expected, "step {step}");
                    if let Some((key, _)) = got {
                        dead.push(key);
                    }
                }
            }
            assert_eq!(q.len(), model.len());
            assert_eq!(q.peek_deadline(), model.iter().map(|e| e.0).min());
        }
    }
}
