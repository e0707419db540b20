//! A heap limit for a whole process: [`LimitedHeap`] wraps the global allocator, counts the
//! bytes in use, and turns running out of a budget into something a program can catch instead
//! of an aborted (or OOM-killed) process.
//!
//! MicroPython's heap is a fixed arena, so a program that allocates too much gets a
//! `MemoryError` and the interpreter goes on. A Rust program's allocations are mostly
//! infallible: a `Vec` that cannot grow aborts the process. The limit here is therefore kept in
//! two ways:
//!
//! - an allocation that takes the heap in use past the limit succeeds, and the hook set by
//!   [`set_hook`] is told, so the embedder can raise the error at the program's next safe
//!   point; it is told again for every further [`GRACE`] bytes allocated while the heap stays
//!   over the limit, as allocations keep failing on MicroPython until the program lets go of
//!   something (the grace lets the error itself be raised and handled);
//! - a fresh allocation of at least [`BIG`] bytes that the machine could not give at all (past
//!   the ceiling set by [`set_ceiling`]: its memory, the process's address space) is refused:
//!   the allocator returns null. Such sizes come from a program (`[0] * n`, `bytearray(n)`,
//!   `b"x" * n`), and the VM asks for them with `try_reserve`, so the refusal becomes an
//!   exception where they were asked for. Refusing anything smaller would abort the process
//!   wherever a `Vec` or `String` grows without `try_reserve`; growth of a live block
//!   (`realloc`) is never refused.
//!
//! The count is kept per thread and added to the process total every [`FLUSH`] bytes, so an
//! allocation costs a thread-local addition rather than an atomic operation; the total is off
//! by at most `FLUSH` bytes per thread that ever ran (a thread's last unflushed bytes go with
//! it). No crate found does this (`cap` and `stats_alloc` count with an atomic per call, and
//! `cap` refuses every allocation over its limit, which aborts on the first `Box::new`).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicPtr, AtomicUsize, Ordering};

/// Fresh allocations of at least this many bytes are refused rather than allowed past the limit.
pub const BIG: usize = 64 * 1024;

/// Bytes a thread allocates or frees before its count is added to the process total.
pub const FLUSH: isize = 256 * 1024;

/// Bytes allocated over the limit after one report before the next.
pub const GRACE: usize = 1024 * 1024;

/// No limit.
const UNLIMITED: usize = usize::MAX;

/// The heap in use at the last report, or 0 while the heap is under the limit.
static REPORTED_AT: AtomicUsize = AtomicUsize::new(0);

static LIMIT: AtomicUsize = AtomicUsize::new(UNLIMITED);
static CEILING: AtomicUsize = AtomicUsize::new(UNLIMITED);
static USED: AtomicIsize = AtomicIsize::new(0);
static HOOK: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// Bytes this thread allocated (positive) or freed (negative) since its last flush.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// The global allocator `A` with a process-wide limit (none until [`set_limit`]).
pub struct LimitedHeap<A> {
    inner: A,
}

impl<A> LimitedHeap<A> {
    /// Wraps `inner`; usable in a `#[global_allocator]` static.
    pub const fn new(inner: A) -> Self {
        LimitedHeap { inner }
    }
}

/// Sets the limit in bytes of heap in use, or removes it (`None`).
pub fn set_limit(limit: Option<usize>) {
    LIMIT.store(limit.unwrap_or(UNLIMITED), Ordering::Relaxed);
}

/// Sets the most heap the machine can give the process at all (`None`: no ceiling). Fresh
/// allocations of at least [`BIG`] bytes that would go past it are refused.
pub fn set_ceiling(ceiling: Option<usize>) {
    CEILING.store(ceiling.unwrap_or(UNLIMITED), Ordering::Relaxed);
}

/// The limit set, if any.
pub fn limit() -> Option<usize> {
    let limit = LIMIT.load(Ordering::Relaxed);
    (limit != UNLIMITED).then_some(limit)
}

/// Bytes in use through a [`LimitedHeap`] (this thread's count included, other threads' to
/// within [`FLUSH`] each).
pub fn used() -> usize {
    flush(PENDING.with(|p| p.replace(0))).max(0) as usize
}

/// What the hook set by [`set_hook`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapEvent {
    /// An allocation of this many bytes took the heap in use past the limit (and succeeded).
    Crossed(usize),
    /// A fresh allocation of this many bytes was refused.
    Refused(usize),
}

/// Sets the function told when the heap in use crosses the limit and when an allocation is
/// refused. It runs inside the allocator: it must not allocate, lock or panic (setting an
/// atomic is the intended use).
pub fn set_hook(hook: fn(HeapEvent)) {
    HOOK.store(hook as *mut (), Ordering::Release);
}

fn call_hook(event: HeapEvent) {
    let hook = HOOK.load(Ordering::Acquire);
    if !hook.is_null() {
        // SAFETY: only `set_hook` stores into HOOK, and it stores a `fn(HeapEvent)`.
        let hook: fn(HeapEvent) = unsafe { std::mem::transmute::<*mut (), fn(HeapEvent)>(hook) };
        hook(event);
    }
}

/// Adds `delta` to the process total; returns the new total.
fn flush(delta: isize) -> isize {
    USED.fetch_add(delta, Ordering::Relaxed) + delta
}

/// Counts `delta` bytes on this thread, and checks the limit when the count is flushed: a
/// thread-local addition and one branch on the fast path.
#[inline(always)]
fn count(delta: isize, size: usize) {
    // A const thread-local without a destructor is there for the whole life of its thread, so
    // `with` never fails here.
    let due = PENDING.with(|p| {
        let pending = p.get().wrapping_add(delta);
        let due = pending.unsigned_abs() >= FLUSH as usize || size >= BIG;
        p.set(if due { 0 } else { pending });
        if due { pending } else { 0 }
    });
    if due != 0 {
        settle(due, size);
    }
}

#[cold]
fn settle(pending: isize, size: usize) {
    let used = flush(pending);
    let limit = LIMIT.load(Ordering::Relaxed);
    if limit == UNLIMITED {
        return;
    }
    let used = used.max(0) as usize;
    if used <= limit {
        REPORTED_AT.store(0, Ordering::Relaxed);
        return;
    }
    // Only allocations report: frees made while over the limit are the program recovering.
    let last = REPORTED_AT.load(Ordering::Relaxed);
    if pending > 0 && (last == 0 || used >= last.saturating_add(GRACE)) {
        REPORTED_AT.store(used, Ordering::Relaxed);
        call_hook(HeapEvent::Crossed(size));
    }
}

/// Would a fresh allocation of `size` bytes go past the ceiling? Only asked for big ones.
fn refuse(size: usize) -> bool {
    let limit = CEILING.load(Ordering::Relaxed);
    if limit == UNLIMITED {
        return false;
    }
    let pending = PENDING.try_with(|p| p.get()).unwrap_or(0);
    let used = (USED.load(Ordering::Relaxed) + pending).max(0) as usize;
    let refused = used.saturating_add(size) > limit;
    if refused {
        call_hook(HeapEvent::Refused(size));
    }
    refused
}

// SAFETY: every call is passed to `inner` unchanged, or refused with null as GlobalAlloc allows.
unsafe impl<A: GlobalAlloc> GlobalAlloc for LimitedHeap<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        if size >= BIG && refuse(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            count(size as isize, size);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        if size >= BIG && refuse(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(size as isize, size);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { self.inner.dealloc(ptr, layout) };
        count(-(layout.size() as isize), 0);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize, new_size);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The statics are process-wide and the test harness runs tests on threads, so one test
    // drives a private allocator through every case in order. The test binary's own global
    // allocator is the system's, so only the calls made here are counted.
    #[test]
    fn over_the_limit_is_reported_and_past_the_ceiling_refused() {
        static CROSSED: AtomicUsize = AtomicUsize::new(0);
        static REFUSED: AtomicUsize = AtomicUsize::new(0);
        fn hook(event: HeapEvent) {
            match event {
                HeapEvent::Crossed(size) => CROSSED.store(size, Ordering::SeqCst),
                HeapEvent::Refused(size) => REFUSED.store(size, Ordering::SeqCst),
            }
        }
        let heap = LimitedHeap::new(std::alloc::System);
        set_hook(hook);
        let base = used();
        set_limit(Some(base + 1024 * 1024));
        set_ceiling(Some(base + 8 * 1024 * 1024));

        // Past the ceiling: refused, not counted, not a crossing.
        let huge = Layout::from_size_align(16 * 1024 * 1024, 8).unwrap();
        // SAFETY (all calls below): valid layouts; null is checked; blocks freed with theirs.
        assert!(unsafe { heap.alloc(huge) }.is_null());
        assert_eq!(used(), base, "a refused block is not counted");
        assert_eq!(REFUSED.swap(0, Ordering::SeqCst), huge.size());
        assert_eq!(CROSSED.load(Ordering::SeqCst), 0);

        // Under the ceiling but past the limit: given, and reported at once (a big block).
        let big = Layout::from_size_align(2 * 1024 * 1024, 8).unwrap();
        let block = unsafe { heap.alloc(big) };
        assert!(!block.is_null());
        assert_eq!(CROSSED.swap(0, Ordering::SeqCst), big.size());
        unsafe { heap.dealloc(block, big) };
        assert_eq!(CROSSED.load(Ordering::SeqCst), 0, "a free is not reported");

        // Small blocks: reported when a flush finds the heap over the limit, and again once
        // GRACE more bytes are allocated while it stays over.
        let small = Layout::from_size_align(1000, 8).unwrap();
        let mut blocks: Vec<*mut u8> = (0..1000).map(|_| unsafe { heap.alloc(small) }).collect();
        assert!(blocks.iter().all(|p| !p.is_null()));
        assert_eq!(CROSSED.load(Ordering::SeqCst), 0, "a megabyte less 48 KiB is under the limit");
        blocks.extend((0..300).map(|_| unsafe { heap.alloc(small) }));
        assert_eq!(CROSSED.swap(0, Ordering::SeqCst), 1000, "the flush past the limit reported");
        blocks.extend((0..800).map(|_| unsafe { heap.alloc(small) }));
        assert_eq!(CROSSED.load(Ordering::SeqCst), 0, "within the grace");
        blocks.extend((0..400).map(|_| unsafe { heap.alloc(small) }));
        assert_eq!(CROSSED.swap(0, Ordering::SeqCst), 1000, "reported again past the grace");
        for p in blocks {
            unsafe { heap.dealloc(p, small) };
        }
        assert_eq!(used(), base);
        assert_eq!(CROSSED.load(Ordering::SeqCst), 0);
        set_limit(None);
        set_ceiling(None);
    }
}
