//! The task monitor: every task not done, what it waits on and where its Python code is
//! parked, printed by `micropython.task_info()`, by a signal sent to the command line
//! (SIGUSR1) and by `-X taskdump` when a run ends with tasks pending; and CPython's
//! `asyncio.all_tasks()`, which returns the same tasks.
//!
//! The scheduler lists the tasks it was given to run (`LiveTasks`) from `spawn` until they
//! finish. The list holds no reference: a task that nothing can wake any more is dropped as it
//! was before, and takes itself off the list as it goes (`LiveSlot`). Listing and unlisting
//! cost a push and a swap-remove, with the task's index kept in the task itself. The loop's
//! helper tasks (wait_for's runner, run_forever's stopper, the call_soon callbacks) and tasks
//! made by `Task(coro)`, which nothing schedules, are never listed.
//!
//! A dump reads each task's `Wait` record (what it waits on; the deadline of a sleep, shown
//! relative to now) and walks its coroutine's frames through `cr_await`: `File "x.py", line N,
//! in f` per coroutine, outermost first, as a traceback reads. The running task's frames are
//! read off the thread's frame stack. Nothing in a dump runs Python code but the writes of
//! its text to `sys.stdout` or `sys.stderr`.
//!
//! A signal only sets a flag and wakes the poller (the handler runs no Python code and takes
//! no lock); the dump is printed at the loop's next look at what other threads sent, between
//! two task steps, or at once when it sleeps in the poller.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use microloop_core::{Interest, Notifier};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyAsyncGen, PyCoroutine, PyGenerator, PySet},
    frame::FrameObjectRef,
    function::OptionalArg,
};

use super::core::{Scheduler, sched, with_sched};
use super::funcs::{GatherState, PyWaitFor};
use super::task::{PyTask, Wait};

/// [`LiveSlot::index`] of a task that is not listed.
const UNLISTED: u32 = u32::MAX;

/// Most coroutines followed down one task's `await` chain (a guard against a chain that loops).
const MAX_DEPTH: usize = 200;

/// A task's place in the scheduler's [`LiveTasks`], kept in the task so that listing and
/// unlisting need no search.
///
/// It is the task's first field: a task dropped while pending (nothing could wake it any more)
/// takes itself off the list before its other fields, whose drop can run code, are dropped.
#[derive(Debug)]
pub(crate) struct LiveSlot {
    /// The task's index in the list, or [`UNLISTED`].
    index: Cell<u32>,
    /// When it was listed: dumps show tasks in the order they were scheduled (after 2**32
    /// tasks the count wraps, and the order of the tasks listed around that point with it).
    seq: Cell<u32>,
}

impl LiveSlot {
    /// The slot of a task not listed yet.
    pub(crate) const fn new() -> Self {
        LiveSlot { index: Cell::new(UNLISTED), seq: Cell::new(0) }
    }
}

impl Drop for LiveSlot {
    fn drop(&mut self) {
        if self.index.get() != UNLISTED {
            let me: &LiveSlot = self;
            with_sched(|s| s.live.forget(me));
        }
    }
}

/// One listed task.
struct Entry {
    /// The task. Valid while listed: a task is unlisted when it finishes, and when its
    /// [`LiveSlot`] is dropped, before the object's memory is freed.
    task: NonNull<Py<PyTask>>,
    /// Its slot, to tell the task apart without reading it (a task being dropped must not be
    /// read as a whole) and to update the index of a task moved by a removal.
    slot: NonNull<LiveSlot>,
}

/// The tasks the scheduler was given to run and that have not finished: the registry behind
/// dumps and `all_tasks()`. Holds no references (see the module documentation).
#[derive(Default)]
pub(crate) struct LiveTasks {
    /// In no particular order (removal swaps the last entry in).
    entries: RefCell<Vec<Entry>>,
    /// The next [`LiveSlot::seq`].
    next_seq: Cell<u32>,
}

impl LiveTasks {
    /// Lists `task`, which the scheduler is about to run for the first time.
    pub(crate) fn add(&self, task: &Py<PyTask>) {
        let slot = &task.live;
        if slot.index.get() != UNLISTED {
            return;
        }
        let mut entries = self.entries.borrow_mut();
        let seq = self.next_seq.get();
        self.next_seq.set(seq.wrapping_add(1));
        slot.index.set(entries.len() as u32);
        slot.seq.set(seq);
        entries.push(Entry { task: NonNull::from(task), slot: NonNull::from(slot) });
    }

    /// Unlists `task`, which has finished (nothing happens for a task never listed).
    pub(crate) fn remove(&self, task: &Py<PyTask>) {
        if task.live.index.get() != UNLISTED {
            self.forget(&task.live);
        }
    }

    /// Unlists the task whose slot `slot` is, if this list holds it.
    fn forget(&self, slot: &LiveSlot) {
        let index = slot.index.replace(UNLISTED);
        let mut entries = self.entries.borrow_mut();
        let ours = entries.get(index as usize).is_some_and(|e| std::ptr::eq(e.slot.as_ptr(), slot));
        if !ours {
            // Listed by a scheduler this thread no longer has.
            return;
        }
        entries.swap_remove(index as usize);
        if let Some(moved) = entries.get(index as usize) {
            // SAFETY: a listed task's slot is alive (see `Entry::task`), and only its index, a
            // Cell, is touched.
            unsafe { moved.slot.as_ref() }.index.set(index);
        }
    }

    /// The listed tasks, in the order they were listed. A task whose last reference is being
    /// dropped right now is left out.
    pub(crate) fn snapshot(&self) -> Vec<PyRef<PyTask>> {
        let objects: Vec<PyObjectRef> = self
            .entries
            .borrow()
            .iter()
            // SAFETY: a listed task's memory is valid (see `Entry::task`); `try_to_owned`
            // refuses an object whose count has reached zero.
            .filter_map(|e| unsafe { e.task.as_ref() }.as_object().try_to_owned())
            .collect();
        let mut tasks: Vec<PyRef<PyTask>> = objects.into_iter().filter_map(|o| o.downcast().ok()).collect();
        tasks.sort_by_key(|t| t.live.seq.get());
        tasks
    }
}

/// Set by the signal handler, taken by the loop.
static DUMP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// The poller the signal handler wakes.
static SIGNAL_NOTIFIER: OnceLock<Notifier> = OnceLock::new();

/// The handler of the dump signal: sets a flag and wakes the poller, both safe in a signal
/// handler (an atomic store; an atomic swap and a write to an eventfd). `errno` is kept.
extern "C" fn on_dump_signal(_signal: libc::c_int) {
    // SAFETY: the calling thread's errno, read and restored around the write the wake-up makes.
    let errno = unsafe { *libc::__errno_location() };
    DUMP_REQUESTED.store(true, Ordering::Release);
    if let Some(notifier) = SIGNAL_NOTIFIER.get() {
        notifier.notify();
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Prints the task dump on `sys.stderr` whenever the process receives `signal` (the command
/// line uses SIGUSR1), once the loop of this thread's runtime is between two task steps, or at
/// once when it sleeps in the poller: every task not done, what it waits on, and where its
/// Python code is. A script that installs its own handler for the signal replaces this one.
///
/// One runtime per process can have this: the first call decides which (later calls only
/// install the handler again). Fails if this thread has no runtime or the handler cannot be
/// installed.
pub fn dump_on_signal(signal: i32) -> std::io::Result<()> {
    let Some(notifier) = with_sched(|s| s.notifier()) else {
        return Err(std::io::Error::other("no scheduler on this thread"));
    };
    let _ = SIGNAL_NOTIFIER.set(notifier);
    // SAFETY: installs a handler that only touches atomics and the notifier (see above);
    // `action` is fully initialised before use.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_dump_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Called by the loop each time it takes in what other threads sent: prints the dump a
/// signal asked for, on `sys.stderr`.
pub(super) fn take_dump_request(s: &Scheduler, vm: &VirtualMachine) {
    if DUMP_REQUESTED.load(Ordering::Acquire) && DUMP_REQUESTED.swap(false, Ordering::AcqRel) {
        let text = dump(s, Header::Now, vm);
        crate::traceback::write_stderr(vm, &text);
    }
}

/// For a command line's `-X taskdump`: when tasks are still pending at the end of a run,
/// prints the task dump on `sys.stderr` (what each task waits on and where its Python code
/// is); prints nothing otherwise.
pub fn dump_if_pending(vm: &VirtualMachine) {
    with_sched(|s| {
        if !s.live.entries.borrow().is_empty() {
            let text = dump(s, Header::RunEnded, vm);
            crate::traceback::write_stderr(vm, &text);
        }
    });
}

/// `micropython.task_info()`: prints the task dump on `sys.stdout`, as `mem_info()` prints
/// its figures.
pub(crate) fn print_task_info(vm: &VirtualMachine) -> PyResult<()> {
    let text = dump(&sched(), Header::Now, vm);
    let stdout = vm.sys_module.get_attr("stdout", vm)?;
    crate::traceback::write_to(vm, &stdout, &text)
}

/// CPython's `asyncio.all_tasks(loop=None)`.
#[derive(rustpython_vm::FromArgs)]
pub(crate) struct AllTasksArgs {
    /// The loop whose tasks to return; by default the running one.
    #[pyarg(any, name = "loop", optional)]
    event_loop: OptionalArg<PyObjectRef>,
}

/// CPython's `asyncio.all_tasks(loop=None)`: the set of the tasks not done. Without a loop,
/// RuntimeError("no running event loop") unless the loop runs; with one, its tasks whether it
/// runs or not (a `Loop` object stands for the one loop; anything else has none).
pub(crate) fn all_tasks(args: AllTasksArgs, vm: &VirtualMachine) -> PyResult<PyRef<PySet>> {
    let s = sched();
    let set = PySet::default().into_ref(&vm.ctx);
    match args.event_loop.into_option().filter(|l| !vm.is_none(l)) {
        None if s.running.get() == 0 => return Err(vm.new_runtime_error("no running event loop")),
        None => {}
        Some(event_loop) if !event_loop.downcastable::<super::_asyncio_native::PyLoop>() => return Ok(set),
        Some(_) => {}
    }
    for task in s.live.snapshot() {
        set.add(task.into(), vm)?;
    }
    Ok(set)
}

/// The first line of a dump.
enum Header {
    /// `microloop: N tasks pending`.
    Now,
    /// `microloop: the run ended with N tasks pending`.
    RunEnded,
}

/// The text of a dump: a header, then per task (in the order they were scheduled) its name,
/// its coroutine's name and what it waits on, and its Python stack.
fn dump(s: &Scheduler, header: Header, vm: &VirtualMachine) -> String {
    let tasks = s.live.snapshot();
    let now = s.now_us();
    let count = match tasks.len() {
        0 => "no tasks".to_owned(),
        1 => "1 task".to_owned(),
        n => format!("{n} tasks"),
    };
    let mut out = match header {
        Header::Now => format!("microloop: {count} pending\n"),
        Header::RunEnded => format!("microloop: the run ended with {count} pending\n"),
    };
    for task in &tasks {
        let stack = Stack::of(task, vm);
        let _ = writeln!(out, "{} ({}): {}", task.display_name(vm), coro_name(task), describe(task, &stack, s, now, vm));
        for frame in &stack.frames {
            let code = frame.f_code();
            let line = frame.lineno();
            let line = if line > 0 { line.to_string() } else { "?".to_owned() };
            let _ = writeln!(out, "  File \"{}\", line {line}, in {}", code.source_path(), code.obj_name);
        }
    }
    out
}

/// The name of the coroutine a task runs (its `__qualname__`), or of its object's class.
fn coro_name(task: &PyTask) -> String {
    let coro = task.coro_object();
    if let Some(c) = coro.downcast_ref::<PyCoroutine>() {
        c.as_coro().qualname().to_string()
    } else if let Some(g) = coro.downcast_ref::<PyGenerator>() {
        g.as_coro().qualname().to_string()
    } else if let Some(g) = coro.downcast_ref::<PyAsyncGen>() {
        g.as_coro().qualname().to_string()
    } else {
        coro.class().name().to_string()
    }
}

/// Where a task's Python code is: the frames of its coroutine and of the coroutines it
/// awaits, outermost first, and the object the innermost one awaits.
struct Stack {
    /// The frames, outermost first.
    frames: Vec<FrameObjectRef>,
    /// What the innermost coroutine awaits when that is not a coroutine (a sleep, a Task, a
    /// stream operation...).
    awaits: Option<PyObjectRef>,
    /// Whether the task's code is executing now (the current task, or one that called
    /// `asyncio.run` again).
    running: bool,
}

impl Stack {
    /// Walks the `await` chain of `task`'s coroutine.
    fn of(task: &PyTask, vm: &VirtualMachine) -> Stack {
        let mut stack = Stack { frames: Vec::new(), awaits: None, running: false };
        let mut obj = task.coro_object();
        for _ in 0..MAX_DEPTH {
            let coro = if let Some(c) = obj.downcast_ref::<PyCoroutine>() {
                c.as_coro()
            } else if let Some(g) = obj.downcast_ref::<PyGenerator>() {
                g.as_coro()
            } else if let Some(g) = obj.downcast_ref::<PyAsyncGen>() {
                g.as_coro()
            } else {
                stack.awaits = Some(obj);
                break;
            };
            if coro.closed() {
                break;
            }
            let Some(frame) = coro.frame_opt() else { break };
            if coro.running() {
                stack.running = true;
                stack.frames.extend(executing_frames(frame, vm));
                break;
            }
            let next = frame.yield_from_target();
            stack.frames.push(frame);
            match next {
                Some(next) => obj = next,
                None => break,
            }
        }
        stack
    }

    /// Whether the innermost coroutine awaits an object of type `T`.
    fn awaits<T: rustpython_vm::PyPayload>(&self) -> bool {
        self.awaits.as_ref().is_some_and(|a| a.downcastable::<T>())
    }
}

/// The frames of the thread's stack from `base` (a coroutine's frame that is executing) to
/// the innermost one, outermost first; `base` alone if it is not on the stack.
fn executing_frames(base: FrameObjectRef, vm: &VirtualMachine) -> Vec<FrameObjectRef> {
    let mut frames = Vec::new();
    for offset in 0..MAX_DEPTH {
        let Some(frame) = rustpython_vm::frame::frame_at_offset(offset, vm) else { break };
        let found = frame.is(&base);
        frames.push(frame);
        if found {
            frames.reverse();
            return frames;
        }
    }
    vec![base]
}

/// What a task waits on, copied out of its [`Wait`] record (the record stays borrowed only
/// while it is copied).
enum Parked {
    /// Suspended by a bare `yield` that parked it nowhere.
    Nowhere,
    Ready,
    Sleep(u64),
    Event,
    Lock,
    LockGranted,
    Flag,
    Task(PyRef<PyTask>),
    Gather(Rc<GatherState>),
    Io(Option<Interest>),
    Source(PyObjectRef),
    Site(&'static str),
    SiteGranted(&'static str),
}

/// The text after a task's name: what it waits on.
fn describe(task: &Py<PyTask>, stack: &Stack, s: &Scheduler, now: u64, vm: &VirtualMachine) -> String {
    let parked = task.with_wait(|wait| match wait {
        Wait::None => Parked::Nowhere,
        Wait::Ready => Parked::Ready,
        Wait::Timer(_, deadline) => Parked::Sleep(*deadline),
        Wait::Event(..) => Parked::Event,
        Wait::Lock(..) => Parked::Lock,
        Wait::LockGranted(_) => Parked::LockGranted,
        Wait::Flag(_) => Parked::Flag,
        Wait::Task(other, _) => Parked::Task(other.clone()),
        Wait::Gather(state) => Parked::Gather(state.clone()),
        Wait::Io(token) => Parked::Io(s.io.interest(task, *token)),
        Wait::Source(_, what) => Parked::Source(what.clone()),
        Wait::Site(_, _, site) => Parked::Site(site.what),
        Wait::SiteGranted(_, site) => Parked::SiteGranted(site.what),
    });
    let mut text = match parked {
        _ if stack.running => "running".to_owned(),
        Parked::Nowhere => "suspended by a bare yield (runs when something queues it)".to_owned(),
        Parked::Ready => "ready to run".to_owned(),
        Parked::Sleep(deadline) => {
            let what = if stack.awaits::<PyWaitFor>() { "wait_for, times out" } else { "sleep, wakes" };
            if deadline > now {
                format!("{what} in {} ms", (deadline - now + 500) / 1000)
            } else {
                format!("{what} now (ready to run)")
            }
        }
        Parked::Event => "Event.wait".to_owned(),
        Parked::Lock => "Lock.acquire".to_owned(),
        Parked::LockGranted => "Lock.acquire, granted (ready to run)".to_owned(),
        Parked::Flag => "ThreadSafeFlag.wait".to_owned(),
        Parked::Task(other) if other.live.index.get() != UNLISTED => {
            format!("awaits {} ({})", other.display_name(vm), coro_name(&other))
        }
        Parked::Task(_) if stack.awaits::<PyWaitFor>() => "wait_for, timed out: awaits the end of the cancelled awaitable".to_owned(),
        Parked::Task(_) => "awaits a task that is not scheduled".to_owned(),
        Parked::Gather(state) => {
            let children = state.pending_children();
            let names: Vec<String> = children.iter().map(|c| format!("{} ({})", c.display_name(vm), coro_name(c))).collect();
            if names.is_empty() { "gather".to_owned() } else { format!("gather, awaits {}", names.join(", ")) }
        }
        Parked::Io(_) if stack.awaits::<super::stream::PyServe>() => "Server, awaits a connection".to_owned(),
        Parked::Io(Some(Interest::Read)) => "stream read".to_owned(),
        Parked::Io(Some(Interest::Write)) => "stream write".to_owned(),
        Parked::Io(_) => "stream read/write".to_owned(),
        Parked::Source(what) => {
            // A native object's repr runs no Python code; a Python class's might.
            let shown = if what.class().slots.flags.has_feature(rustpython_vm::types::PyTypeFlags::HEAPTYPE) {
                None
            } else {
                what.repr(vm).ok().map(|r| r.to_string())
            };
            format!("host call {}", shown.unwrap_or_else(|| what.class().name().to_string()))
        }
        Parked::Site(what) => what.to_owned(),
        Parked::SiteGranted(what) => format!("{what}, granted (ready to run)"),
    };
    if task.has_pending() && !stack.running {
        text.push_str(", cancellation pending");
    }
    text
}
