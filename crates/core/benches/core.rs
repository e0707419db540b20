//! The run loop's Rust building blocks on their own: the timer queue and the reactor.
//!
//! ```text
//! cargo bench -p microloop-core --bench core
//! ```

use std::hint::black_box;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use microloop_core::{Interest, Reactor, TimerQueue};

/// Deadlines spread like sleeping tasks': 10,000 of them over 0-499 ms, in a scrambled order.
fn deadlines() -> Vec<u64> {
    (0..10_000u64).map(|i| (i * 7919 % 500) * 1000 + i % 1000).collect()
}

fn timers(c: &mut Criterion) {
    let ds = deadlines();
    c.bench_function("timer_queue: push 10k, pop all in order", |b| {
        b.iter(|| {
            let mut q = TimerQueue::with_capacity(ds.len());
            for (i, &d) in ds.iter().enumerate() {
                q.push(d, i);
            }
            let mut n = 0;
            while let Some((_, v)) = q.pop_expired(u64::MAX) {
                n += black_box(v) & 1;
            }
            n
        })
    });
    c.bench_function("timer_queue: push 10k, remove all (wait_for that completes)", |b| {
        b.iter_batched(
            || TimerQueue::with_capacity(ds.len()),
            |mut q| {
                let keys: Vec<_> = ds.iter().enumerate().map(|(i, &d)| q.push(d, i)).collect();
                for k in keys {
                    black_box(q.remove(k));
                }
            },
            BatchSize::SmallInput,
        )
    });
}

fn reactor(c: &mut Criterion) {
    let mut r = Reactor::new().expect("reactor");
    let notifier = r.notifier();
    let mut events = Vec::new();
    c.bench_function("reactor: notify, poll, take_notified", |b| {
        b.iter(|| {
            notifier.notify();
            r.poll(Some(Duration::ZERO), &mut events).expect("poll");
            assert!(r.take_notified());
        })
    });
    let (mut tx, rx) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    rx.set_nonblocking(true).expect("nonblocking");
    let token = r.register(rx.as_raw_fd(), Interest::Read).expect("register");
    let mut buf = [0u8; 64];
    c.bench_function("reactor: write a byte, poll readable, read it", |b| {
        b.iter(|| {
            tx.write_all(b"x").expect("write");
            r.poll(Some(Duration::from_secs(1)), &mut events).expect("poll");
            assert!(events.iter().any(|e| e.token == token && e.readable));
            black_box(std::io::Read::read(&mut &rx, &mut buf).expect("read"));
        })
    });
}

criterion_group!(benches, timers, reactor);
criterion_main!(benches);
