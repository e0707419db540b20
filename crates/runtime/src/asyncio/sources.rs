//! The wake-up sources: everything that can make a task ready while no task runs, behind one
//! interface, [`Source`].
//!
//! MicroPython registers each object a task waits on (a stream, a ThreadSafeFlag) with one
//! poller and asks it before every step (`IOQueue.wait_io_event`); its VM runs the callbacks
//! of `micropython.schedule` and of interrupts between bytecodes. microloop has more kinds:
//! pin edges from a simulation or a GPIO chip, and calls and messages from the host's
//! threads. Each kind is a [`Source`], added to a [`Registry`] when the scheduler is installed;
//! the loop asks them in that order before every step ([`Sources::wait_io_event`]) without
//! knowing what they are. The order is fixed around the loop's own three sources:
//!
//! 1. [`Stage::Interrupts`] sources (the pins): take in the edges that are due and queue the
//!    handlers they fire.
//! 2. [`Callbacks`]: runs the callbacks queued so far, as MicroPython runs them between
//!    bytecodes.
//! 3. [`Flags`]: pushes the waiter of a ThreadSafeFlag set on the loop's thread, as
//!    MicroPython's poller finds the flag readable.
//! 4. [`IoQueue`]: first takes in the streams that a send of this loop made readable (a
//!    stream's send to another stream of the same loop, known by address pair, is announced
//!    without asking the kernel), then asks the poller with no timeout when a task waits on a
//!    descriptor or a source registered one, and a step since the last poll connected,
//!    accepted, closed or used TLS, or 32 steps went by. Readiness goes to the descriptor's
//!    owner; a kernel read event for a stream that has received every byte announced to it
//!    is dropped as old news. A notification from another thread goes to every source
//!    ([`Source::take_notified`]).
//! 5. [`Stage::AfterPoll`] sources (the host): run what the poll took in (calls queued with
//!    `call_soon_threadsafe`).
//!
//! `time.sleep` asks only the first two while it blocks, as interrupts and scheduled
//! callbacks run on a board during a blocking sleep.
//!
//! A step with nothing pending must stay cheap (the `switch` benchmark polls once per task
//! switch), so the loop asks only the sources that are *armed*: one bit each in a word. A
//! source arms itself when something happens ([`Scheduler::arm`]) and disarms itself once it
//! has taken everything in; a source with a deadline is armed when the loop reads it. The
//! [`IoQueue`] is asked at its place every time, armed or not: it looks for another thread's
//! notification, an atomic swap.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Duration;

use microloop_core::{Interest, Notifier, Reactor, Readiness, Token};
use rustpython_vm::{AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine};

use super::core::{Scheduler, escapes_loop};
use super::event::Flags;
use super::task::{PyTask, Wait};

/// Most callbacks `micropython.schedule` queues before it raises, as on MicroPython ports.
const SCHEDULE_DEPTH: usize = 8;

/// The read epoch of a descriptor whose peer has closed or reset (see [`IoQueue::read_epoch`]).
const HUNG_UP: u64 = u64::MAX;

/// Most sources a scheduler has: one bit each in [`Sources::armed`].
const MAX_SOURCES: usize = u32::BITS as usize;

/// Something that can make a task ready while no task runs. Only
/// [`wait_io_event`](Self::wait_io_event) is required; the rest default to "nothing".
pub(crate) trait Source: Any {
    /// Takes in what happened since it was last asked, without blocking: pushes the tasks it
    /// wakes, runs the callbacks that are due (MicroPython's `wait_io_event(0)` for this
    /// source). Asked before each step while the source is armed.
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()>;

    /// The poller reported `ev` for a descriptor this source registered
    /// ([`Registry::register`]).
    fn ready(&self, _sched: &Scheduler, _ev: &Readiness) {}

    /// Another thread woke the loop: takes in what it sent (flags set, host calls completed,
    /// messages).
    fn take_notified(&self, _sched: &Scheduler, _vm: &VirtualMachine) -> PyResult<()> {
        Ok(())
    }

    /// Whether it could still make a task ready with no task running first: while one can, the
    /// loop waits instead of deciding that nothing can wake it (MicroPython: `_io_queue.map`
    /// is not empty).
    fn can_wake(&self) -> bool {
        false
    }

    /// When it next has something to take in, on the loop's clock: the idle loop sleeps no
    /// longer, a virtual clock jumps there, `time.sleep` wakes there. A source with a deadline
    /// is armed.
    fn next_deadline(&self) -> Option<u64> {
        None
    }

    /// The loop is about to block in the poller.
    fn idle(&self) {}

    /// `new_event_loop`: forgets the tasks waiting on this source.
    fn reset(&self) {}

    /// `task`, parked on this source as [`Wait::Source`] with `what`, is being cancelled:
    /// undoes its wait.
    fn cancel_wait(&self, _sched: &Scheduler, _task: &PyRef<PyTask>, _what: &PyObjectRef) {}
}

/// A source's place in the loop's order, which is also its bit in the armed word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceId(u32);

impl SourceId {
    fn bit(self) -> u32 {
        1 << self.0
    }
}

/// Where a source comes in each pass, around the loop's own sources (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Before the scheduled callbacks run, and while `time.sleep` blocks: a source of
    /// interrupts, whose handlers it queues ([`Callbacks::extend`]) to run in the same pass.
    Interrupts,
    /// After the poller: a source whose work the poll takes in and that runs it in the same
    /// pass.
    AfterPoll,
}

/// The loop's own sources, also in the list: the scheduler keeps them typed for its primitives.
pub(crate) struct OwnSources {
    /// `micropython.schedule`'s queue, which interrupt sources also feed.
    pub callbacks: Rc<Callbacks>,
    /// The ThreadSafeFlags with a waiter.
    pub flags: Rc<Flags>,
    /// The tasks waiting on descriptors, and the poller.
    pub io: Rc<IoQueue>,
}

/// What the sources of a scheduler being installed join it through: the poller, for their
/// descriptors and the notifier other threads wake the loop with, and the list.
///
/// [`Stage::Interrupts`] sources must be added before any [`Stage::AfterPoll`] one: the
/// loop's own sources go in between, when the first of those is added.
pub(crate) struct Registry<'a> {
    /// The scheduler's poller.
    reactor: &'a mut Reactor,
    /// The sources so far, in the loop's order.
    list: Vec<Rc<dyn Source>>,
    /// The sources armed from the start.
    armed: u32,
    /// The sources `time.sleep` asks.
    between_bytecodes: u32,
    /// The descriptors registered so far, with their owner.
    owners: Vec<(Token, SourceId)>,
    /// The loop's own sources once added, with the poller's place.
    own: Option<(OwnSources, SourceId)>,
}

impl<'a> Registry<'a> {
    pub(super) fn new(reactor: &'a mut Reactor) -> Self {
        Registry { reactor, list: Vec::new(), armed: 0, between_bytecodes: 0, owners: Vec::new(), own: None }
    }

    /// The handle other threads wake the loop with.
    pub fn notifier(&self) -> Notifier {
        self.reactor.notifier()
    }

    /// Adds the source `make` builds from its id, at `stage`, unarmed.
    pub fn add<S: Source>(&mut self, stage: Stage, make: impl FnOnce(SourceId) -> S) -> SourceId {
        match stage {
            Stage::Interrupts => {
                assert!(self.own.is_none(), "interrupt sources are added before after-poll ones");
                let id = self.push(make);
                self.between_bytecodes |= id.bit();
                id
            }
            Stage::AfterPoll => {
                self.add_own();
                self.push(make)
            }
        }
    }

    /// Arms `id` from the start. A source that never disarms itself is asked before every step.
    pub fn arm(&mut self, id: SourceId) {
        self.armed |= id.bit();
    }

    /// Registers `fd` with the poller for `interest`; its readiness goes to `owner`, and while
    /// it is registered the poller is asked before every step.
    pub fn register(&mut self, owner: SourceId, fd: RawFd, interest: Interest) -> std::io::Result<Token> {
        let token = self.reactor.register(fd, interest)?;
        self.owners.push((token, owner));
        Ok(token)
    }

    fn push<S: Source>(&mut self, make: impl FnOnce(SourceId) -> S) -> SourceId {
        assert!(self.list.len() < MAX_SOURCES, "at most {MAX_SOURCES} wake-up sources");
        let id = SourceId(self.list.len() as u32);
        self.list.push(Rc::new(make(id)));
        id
    }

    /// Adds the loop's own sources, once.
    fn add_own(&mut self) {
        if self.own.is_some() {
            return;
        }
        let callbacks = Rc::new(Callbacks { id: self.next_id(), queue: RefCell::new(VecDeque::new()) });
        self.between_bytecodes |= callbacks.id.bit();
        self.list.push(callbacks.clone());
        let flags = Rc::new(Flags::new(self.next_id()));
        self.list.push(flags.clone());
        let io = Rc::new(IoQueue::default());
        let poller = self.next_id();
        self.list.push(io.clone());
        self.own = Some((OwnSources { callbacks, flags, io }, poller));
    }

    fn next_id(&self) -> SourceId {
        SourceId(self.list.len() as u32)
    }

    /// The sources in the loop's order, and the loop's own ones typed.
    pub(super) fn finish(mut self) -> (Sources, OwnSources) {
        self.add_own();
        let (own, poller) = self.own.take().expect("added above");
        let sources = Sources {
            list: self.list.into_boxed_slice(),
            armed: Cell::new(self.armed),
            between_bytecodes: self.between_bytecodes,
            before_poller: poller.bit() - 1,
            after_poller: !1 << poller.0,
            io: own.io.clone(),
            owners: self.owners.into_boxed_slice(),
        };
        (sources, own)
    }
}

/// A scheduler's sources in the loop's order, and which of them to ask at the next step.
pub(crate) struct Sources {
    /// Every source, in the loop's order.
    list: Box<[Rc<dyn Source>]>,
    /// One bit per source, by position: ask it before the next step.
    armed: Cell<u32>,
    /// The sources `time.sleep` asks while it blocks: interrupts and the scheduled callbacks.
    between_bytecodes: u32,
    /// The sources before the [`IoQueue`] in the list.
    before_poller: u32,
    /// The sources after it.
    after_poller: u32,
    /// The poller, asked at its place in every pass without looking at its bit: whatever
    /// else it has, it looks for another thread's notification.
    io: Rc<IoQueue>,
    /// The descriptors sources registered, with their owner.
    owners: Box<[(Token, SourceId)]>,
}

impl Sources {
    /// Has `id` asked before each step.
    pub fn arm(&self, id: SourceId) {
        self.armed.set(self.armed.get() | id.bit());
    }

    /// Stops asking `id`.
    pub fn disarm(&self, id: SourceId) {
        self.armed.set(self.armed.get() & !id.bit());
    }

    /// Asks every armed source, in order, to take in what happened (MicroPython's
    /// `wait_io_event(0)` with the callbacks its VM runs between bytecodes).
    pub fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        self.ask(self.before_poller, sched, vm)?;
        self.io.wait_io_event(sched, vm)?;
        self.ask(self.after_poller, sched, vm)
    }

    /// Asks the armed interrupt sources and the scheduled callbacks (`time.sleep` blocking).
    pub fn handle_pending(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        self.ask(self.between_bytecodes, sched, vm)
    }

    /// Asks the armed sources among `among`, in order. One armed by a source before it (the
    /// pins queue a callback, a callback sets a flag) is asked in the same pass.
    fn ask(&self, among: u32, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        let mut due = self.armed.get() & among;
        while due != 0 {
            let i = due.trailing_zeros();
            self.list[i as usize].wait_io_event(sched, vm)?;
            due = self.armed.get() & among & (!1 << i);
        }
        Ok(())
    }

    /// Gives every source what other threads sent, in order.
    pub fn take_notified(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        self.list.iter().try_for_each(|s| s.take_notified(sched, vm))
    }

    /// The source that registered `token`, if one did (streams' tokens belong to the
    /// [`IoQueue`]).
    pub fn owner(&self, token: Token) -> Option<&dyn Source> {
        self.owners.iter().find(|(t, _)| *t == token).map(|&(_, id)| &*self.list[id.0 as usize])
    }

    /// Whether a source registered a descriptor with the poller.
    pub fn have_descriptors(&self) -> bool {
        !self.owners.is_empty()
    }

    pub fn can_wake(&self) -> bool {
        self.list.iter().any(|s| s.can_wake())
    }

    /// The earliest of the sources' deadlines. Each source that has one is armed, to be asked
    /// when the loop wakes.
    pub fn next_deadline(&self) -> Option<u64> {
        let mut earliest = None;
        for (i, source) in self.list.iter().enumerate() {
            if let Some(deadline) = source.next_deadline() {
                self.arm(SourceId(i as u32));
                earliest = Some(earliest.map_or(deadline, |e: u64| e.min(deadline)));
            }
        }
        earliest
    }

    pub fn idle(&self) {
        self.list.iter().for_each(|s| s.idle());
    }

    pub fn reset(&self) {
        self.list.iter().for_each(|s| s.reset());
    }

    pub fn cancel_wait(&self, id: SourceId, sched: &Scheduler, task: &PyRef<PyTask>, what: &PyObjectRef) {
        self.list[id.0 as usize].cancel_wait(sched, task, what);
    }

    /// The source of type `T`, for the module that defines it to reach its state.
    pub fn get<T: Source>(&self) -> Option<&T> {
        self.list.iter().find_map(|s| (&**s as &dyn Any).downcast_ref::<T>())
    }
}

/// A callback waiting to run between task steps: `micropython.schedule`'s, or an interrupt
/// handler.
pub(crate) struct Callback {
    /// What to call.
    pub func: PyObjectRef,
    /// With these arguments.
    pub args: Vec<PyObjectRef>,
    /// Called with its second half when the call raises, before the exception is printed (a
    /// hard interrupt's handler disables its interrupt).
    pub on_error: Option<(fn(&Scheduler, usize, &VirtualMachine), usize)>,
}

/// The callbacks `micropython.schedule` and interrupt sources queued, run oldest first before
/// the next step. An exception from one is printed (MicroPython prints it and carries on) and
/// does not stop the rest. Callbacks queued while these run wait for the next pass, so one that
/// schedules itself again cannot starve the tasks.
pub(crate) struct Callbacks {
    id: SourceId,
    queue: RefCell<VecDeque<Callback>>,
}

impl Callbacks {
    /// `micropython.schedule(func, arg)`.
    pub fn schedule(&self, sched: &Scheduler, func: PyObjectRef, arg: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let mut q = self.queue.borrow_mut();
        if q.len() >= SCHEDULE_DEPTH {
            return Err(vm.new_runtime_error("schedule queue full"));
        }
        q.push_back(Callback { func, args: vec![arg], on_error: None });
        sched.arm(self.id);
        Ok(())
    }

    /// Queues interrupt handlers that fired.
    pub fn extend(&self, sched: &Scheduler, fired: impl IntoIterator<Item = Callback>) {
        self.queue.borrow_mut().extend(fired);
        sched.arm(self.id);
    }
}

impl Source for Callbacks {
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        let queued = self.queue.borrow().len();
        for _ in 0..queued {
            let next = self.queue.borrow_mut().pop_front();
            let Some(callback) = next else { break };
            if let Err(e) = callback.func.call(callback.args, vm) {
                if escapes_loop(&e, vm) {
                    return Err(e);
                }
                if let Some((on_error, arg)) = callback.on_error {
                    on_error(sched, arg, vm);
                }
                crate::traceback::print_exception(vm, &e, None);
            }
        }
        if self.queue.borrow().is_empty() {
            sched.disarm(self.id);
        }
        Ok(())
    }

    /// Callbacks queued by the callbacks that just ran keep the loop going: they run at its
    /// next turn, even when no task is due (MicroPython runs them at its next poll).
    fn can_wake(&self) -> bool {
        !self.queue.borrow().is_empty()
    }

    fn next_deadline(&self) -> Option<u64> {
        (!self.queue.borrow().is_empty()).then_some(0)
    }
}

/// The tasks parked on one descriptor, each with the readiness it waits for.
type IoWaiters = Vec<(PyRef<PyTask>, Interest)>;

/// MicroPython's `IOQueue`: the tasks waiting for a descriptor to become ready, and the poller
/// asked before each step (at its place in the order, whether armed or not).
#[derive(Default)]
pub(crate) struct IoQueue {
    /// Tasks waiting for readiness, indexed by reactor token, with what they wait for.
    waiters: RefCell<Vec<IoWaiters>>,
    /// How many tasks wait in `waiters`: the loop polls for I/O only when some do.
    waiting: Cell<usize>,
    /// Read (or error) events seen per reactor token, whether or not a task waited: a stream
    /// whose last read drained its socket reads again only once this moves on.
    read_epochs: RefCell<Vec<u64>>,
    /// Set when a step connected, accepted, closed, used TLS or sent to a peer that is not a
    /// known stream of this loop since the last poll: a socket of this process may have become
    /// ready (loopback delivers at once) without an announcement, so the poll before the next
    /// step must look, as MicroPython's does before every step.
    touched: Cell<bool>,
    /// Steps since the last poll: readiness no step of this process caused (a remote peer, a
    /// pipe) is taken in at least every [`POLL_EVERY`] steps, or when nothing is due.
    unpolled: Cell<u32>,
    /// The TCP streams of this loop by (own address, peer address): when one sends, the
    /// stream at the other end, if it is one of these, is readable at once (loopback delivers
    /// within the send), so the loop can say so itself instead of asking the kernel.
    pairs: RefCell<HashMap<(SocketAddr, SocketAddr), Token>>,
    /// Streams made readable by a send of this loop since the last step, in send order: taken
    /// in at the next step's poll as the kernel would report them.
    announced: RefCell<Vec<Token>>,
    /// Per token: bytes announced to the stream (sent to it by its peer in this loop), and
    /// bytes it has received. All bytes on such a socket come from this loop's sends, so a
    /// kernel read event when it has received everything announced reports nothing new and is
    /// dropped; while announced bytes are still on their way (a full receive buffer keeps
    /// them in the sender's queue), every event counts.
    bytes: RefCell<Vec<(u64, u64)>>,
}

/// Most steps between two polls while tasks keep the loop busy and no step touched a socket.
/// A poll costs a system call; MicroPython polls before every step, and what it would find
/// between two of ours is what a remote peer sent a little later.
const POLL_EVERY: u32 = 32;

impl IoQueue {
    /// Records a TCP stream of this loop, to be told when its peer here sends.
    pub fn pair(&self, local: SocketAddr, peer: SocketAddr, token: Token) {
        self.pairs.borrow_mut().insert((local, peer), token);
    }

    /// Forgets a stream recorded with [`IoQueue::pair`].
    pub fn unpair(&self, local: SocketAddr, peer: SocketAddr, token: Token) {
        let mut pairs = self.pairs.borrow_mut();
        if pairs.get(&(local, peer)) == Some(&token) {
            pairs.remove(&(local, peer));
        }
        drop(pairs);
        self.forget_announced(token);
    }

    /// Drops what was announced for `token` (its descriptor is gone, and the token may be
    /// given to another one, whose own events must all count).
    fn forget_announced(&self, token: Token) {
        self.announced.borrow_mut().retain(|t| *t != token);
        if let Some(b) = self.bytes.borrow_mut().get_mut(token.0) {
            *b = (0, 0);
        }
    }

    /// A stream with address `local` has sent `total` bytes to `peer` since its connection
    /// opened, some of them just now: if the peer is a stream of this loop, it is readable at
    /// the next step. Otherwise (a remote peer, or one known by another address) the next
    /// step's poll asks the kernel.
    pub fn sent(&self, local: SocketAddr, peer: SocketAddr, total: u64) {
        let to = self.pairs.borrow().get(&(peer, local)).copied();
        match to {
            Some(token) => {
                self.announced.borrow_mut().push(token);
                // Both ends count from the connection's first byte, bytes sent before the
                // receiver was accepted included.
                self.bytes_of(token, |b| b.0 = b.0.max(total));
            }
            None => self.touch(),
        }
    }

    /// A stream of this loop has received `total` bytes so far.
    pub fn received(&self, token: Token, total: u64) {
        if self.bytes.borrow().get(token.0).is_some_and(|b| b.0 > 0) {
            self.bytes_of(token, |b| b.1 = total);
        }
    }

    fn bytes_of(&self, token: Token, f: impl FnOnce(&mut (u64, u64))) {
        let mut bytes = self.bytes.borrow_mut();
        if bytes.len() <= token.0 {
            bytes.resize(token.0 + 1, (0, 0));
        }
        f(&mut bytes[token.0]);
    }

    /// Takes in the read events announced by sends, as the kernel would report them.
    fn take_announced(&self, sched: &Scheduler) {
        let tokens = std::mem::take(&mut *self.announced.borrow_mut());
        for token in &tokens {
            self.dispatch(sched, &Readiness { token: *token, readable: true, writable: false, error_or_hup: false });
        }
        let mut reuse = self.announced.borrow_mut();
        if reuse.capacity() < tokens.capacity() {
            *reuse = tokens;
            reuse.clear();
        }
    }

    /// A step did something no announcement covers (see `touched`): poll before the next one.
    pub fn touch(&self) {
        self.touched.set(true);
    }

    /// The poller was asked: start counting steps again.
    pub fn polled(&self) {
        self.touched.set(false);
        self.unpolled.set(0);
    }

    /// Parks `task` until the descriptor registered under `token` is ready for `interest`
    /// (MicroPython's `queue_read` / `queue_write`).
    pub fn park(&self, task: PyRef<PyTask>, token: Token, interest: Interest) {
        let mut io = self.waiters.borrow_mut();
        if io.len() <= token.0 {
            io.resize_with(token.0 + 1, Vec::new);
        }
        io[token.0].push((task.clone(), interest));
        self.waiting.set(self.waiting.get() + 1);
        task.set_wait(Wait::Io(token));
    }

    /// What `task` waits for on `token`, if it waits there (for the task monitor).
    pub fn interest(&self, task: &PyTask, token: Token) -> Option<Interest> {
        let io = self.waiters.borrow();
        io.get(token.0)?.iter().find(|(t, _)| std::ptr::eq::<PyTask>(&***t, task)).map(|&(_, interest)| interest)
    }

    /// Takes `task` out of the waiters of `token`.
    pub fn remove(&self, task: &PyRef<PyTask>, token: Token) {
        let mut io = self.waiters.borrow_mut();
        if let Some(list) = io.get_mut(token.0) {
            let before = list.len();
            list.retain(|(t, _)| !t.is(task));
            self.waiting.set(self.waiting.get() - (before - list.len()));
        }
    }

    /// Takes out every task waiting on `token`.
    pub fn take_all(&self, token: Token) -> IoWaiters {
        let list = self.waiters.borrow_mut().get_mut(token.0).map(std::mem::take).unwrap_or_default();
        self.waiting.set(self.waiting.get() - list.len());
        list
    }

    /// How many read events the reactor has reported for `token`, or None once it reported
    /// an error or hang-up: the peer's last bytes and its close can arrive as one event, so a
    /// short read no longer means the socket is drained, and reads must ask the kernel.
    pub fn read_epoch(&self, token: Token) -> Option<u64> {
        let epoch = self.read_epochs.borrow().get(token.0).copied().unwrap_or(0);
        (epoch != HUNG_UP).then_some(epoch)
    }

    /// Starts the read events of a newly registered descriptor from zero.
    pub fn reset_read_epoch(&self, token: Token) {
        if let Some(epoch) = self.read_epochs.borrow_mut().get_mut(token.0) {
            *epoch = 0;
        }
        self.forget_announced(token);
    }
}

impl Source for IoQueue {
    /// Polls with no timeout when a task waits on a descriptor or a source registered one, and
    /// a step touched a socket since the last poll or [`POLL_EVERY`] steps went by; otherwise
    /// only takes in another thread's notification.
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        if !self.announced.borrow().is_empty() {
            self.take_announced(sched);
        }
        let due = self.touched.get() || self.unpolled.get() >= POLL_EVERY;
        if due && (self.waiting.get() > 0 || sched.sources.have_descriptors()) {
            sched.poll(Some(Duration::ZERO), vm)
        } else if !due {
            self.unpolled.set(self.unpolled.get() + 1);
            if sched.reactor.borrow().take_notified() { sched.take_wakeups(vm) } else { Ok(()) }
        } else if sched.reactor.borrow().take_notified() {
            sched.take_wakeups(vm)
        } else {
            Ok(())
        }
    }

    /// Wakes the tasks whose readiness arrived. A read event of a stream that has received
    /// every byte announced to it reports nothing new and is dropped.
    fn ready(&self, sched: &Scheduler, ev: &Readiness) {
        let stale = ev.readable
            && !ev.error_or_hup
            && self.bytes.borrow().get(ev.token.0).is_some_and(|&(announced, received)| announced > 0 && received >= announced);
        if stale {
            if ev.writable {
                self.dispatch(sched, &Readiness { readable: false, ..*ev });
            }
            return;
        }
        self.dispatch(sched, ev);
    }

    fn can_wake(&self) -> bool {
        self.waiting.get() > 0
    }

    fn reset(&self) {
        let io = std::mem::take(&mut *self.waiters.borrow_mut());
        self.waiting.set(0);
        drop(io);
    }
}

impl IoQueue {
    /// Counts a read event and wakes the tasks waiting for `ev`.
    fn dispatch(&self, sched: &Scheduler, ev: &Readiness) {
        if ev.readable || ev.error_or_hup {
            let mut epochs = self.read_epochs.borrow_mut();
            if epochs.len() <= ev.token.0 {
                epochs.resize(ev.token.0 + 1, 0);
            }
            let epoch = &mut epochs[ev.token.0];
            *epoch = if ev.error_or_hup { HUNG_UP } else { epoch.saturating_add(1) };
        }
        let woken: Vec<PyRef<PyTask>> = {
            let mut io = self.waiters.borrow_mut();
            let Some(list) = io.get_mut(ev.token.0) else { return };
            let mut woken = Vec::new();
            list.retain(|(task, interest)| {
                let ready = ev.error_or_hup
                    || match interest {
                        Interest::Read => ev.readable,
                        Interest::Write => ev.writable,
                        Interest::ReadWrite => ev.readable || ev.writable,
                    };
                if ready {
                    woken.push(task.clone());
                }
                !ready
            });
            woken
        };
        self.waiting.set(self.waiting.get() - woken.len());
        for task in woken {
            sched.push_ready(task);
        }
    }
}
