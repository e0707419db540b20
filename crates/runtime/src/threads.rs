//! `_thread`: threads of Python code that take turns on the loop's OS thread.
//!
//! MicroPython's unix port runs each `_thread` thread on an OS thread of its own, under a lock
//! that lets one run Python code at a time. microloop's VM is built without its thread support
//! (every object would pay for atomic reference counts and locks, about 8% on a task switch), so
//! a thread here is a *green thread*: its own stack ([`corosensei`]) and its own VM state (frames,
//! exception state, recursion count: [`VirtualMachine::new_green_thread`]) on the one OS thread,
//! sharing the interpreter, as the threads of a VM with a global lock do. What a program sees is
//! the same: threads take turns
//!
//! - when one blocks: `time.sleep`, a lock's `acquire`, the loop waiting for I/O or a deadline;
//! - every [`SLICE`] of running Python code, like the switch interval of a global lock: a timer
//!   OS thread asks for a switch (`signal::request_switch`, checked between bytecodes), so a
//!   thread spinning on a flag another sets does not hang the program.
//!
//! The main thread runs the switching: every other thread is resumed from it and comes back to
//! it when it gives up its turn, which is when the main thread looks at its own work again (the
//! loop's poll, a sleep, a lock). Nothing here costs a program that starts no thread: the
//! scheduler's poll checks one thread-local counter.
//!
//! A blocking system call in a thread (a read from a socket or the console in blocking mode)
//! blocks them all; with asyncio, such waits belong in a task.

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};
use rustpython_vm::builtins::PyBaseExceptionRef;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::vm::thread::{GreenThreadLocals, enter_vm, swap_green_thread_locals};
use rustpython_vm::{AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine};

use crate::asyncio::core::sched;

pub(crate) use _thread::module_def;

/// How long a thread runs Python code before the others get a turn (CPython's switch interval).
const SLICE: Duration = Duration::from_millis(5);

/// A thread's stack when `stack_size()` has not set one: the main thread's usual 8 MiB, so that
/// code runs as deep in a thread as in the main thread. Only the pages a thread touches are
/// mapped; a guard page below ends the process on overflow, where the VM's own depth checks
/// (RecursionError) have not stopped it first (freeing a very deeply nested object does not
/// check).
const DEFAULT_STACK: usize = 8 << 20;

/// The smallest stack a thread gets whatever `stack_size()` says (CPython's minimum is 32 KiB;
/// the VM needs more).
const MIN_STACK: usize = 128 << 10;

/// The idents handed to threads, counting on from the main thread's: never one twice, so that
/// what is kept per ident (`threading.local`) never passes to a later thread.
static NEXT_IDENT: AtomicUsize = AtomicUsize::new(1);

/// Threads started and not yet finished, on every OS thread; the timer asks for switches while
/// there are any.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The timer that asks for a switch every [`SLICE`] while threads run.
static SLICER: OnceLock<std::thread::Thread> = OnceLock::new();

/// What a thread waits for when it gives up its turn.
enum Wait {
    /// Nothing: it was preempted or yielded, and runs again in the next round.
    Turn,
    /// `time.sleep`: until this time on the loop's clock (µs).
    Until(u64),
    /// A lock's `acquire`: until the lock is free, or the deadline (µs) passes.
    Lock(PyRef<_thread::PyLock>, Option<u64>),
}

impl Wait {
    fn ready(&self, now: u64) -> bool {
        match self {
            Wait::Turn => true,
            Wait::Until(t) => now >= *t,
            Wait::Lock(lock, deadline) => !lock.is_locked() || deadline.is_some_and(|t| now >= t),
        }
    }

    fn deadline(&self) -> Option<u64> {
        match self {
            Wait::Turn => None,
            Wait::Until(t) => Some(*t),
            Wait::Lock(_, deadline) => *deadline,
        }
    }
}

type Body = Coroutine<(), Wait, (), DefaultStack>;

/// A thread other than the main one.
struct Thread {
    ident: u64,
    /// Its stack and where it stopped. Dropped only once the body has returned ([`Drop`]):
    /// dropping a suspended one would unwind its stack, running Python objects' finalisers in
    /// the middle of its code; a thread still running when the program ends is left as it is,
    /// as MicroPython leaves it.
    body: RefCell<ManuallyDrop<Body>>,
    /// Whether the body has returned.
    finished: Cell<bool>,
    /// Its VM state; the body points at it.
    vm: ManuallyDrop<Box<VirtualMachine>>,
    /// The OS thread's VM record for this thread while another runs.
    locals: RefCell<GreenThreadLocals>,
    /// The body's handle for giving up its turn, set when it starts.
    yielder: Rc<Cell<*const Yielder<(), Wait>>>,
    wait: RefCell<Wait>,
}

impl Drop for Thread {
    fn drop(&mut self) {
        if self.finished.get() {
            // SAFETY: the body has returned, so nothing is left on its stack to unwind, and the
            // VM it pointed at is no longer used.
            unsafe {
                ManuallyDrop::drop(self.body.get_mut());
                ManuallyDrop::drop(&mut self.vm);
            }
        }
    }
}

/// This OS thread's threads.
struct Threads {
    /// Started and not finished, in the order they take turns.
    all: RefCell<Vec<Rc<Thread>>>,
    /// The thread running now; None for the main thread.
    current: RefCell<Option<Rc<Thread>>>,
    /// The stack size for threads started from now on (0: the default).
    stack_size: Cell<usize>,
}

thread_local! {
    static THREADS: Threads = const {
        Threads { all: RefCell::new(Vec::new()), current: RefCell::new(None), stack_size: Cell::new(0) }
    };
}

/// True when code runs in a thread started by `_thread`, not the main thread.
pub(crate) fn in_thread() -> bool {
    THREADS.with(|t| t.current.borrow().is_some())
}

/// True when threads other than the main one exist on this OS thread.
pub(crate) fn others_exist() -> bool {
    THREADS.with(|t| !t.all.borrow().is_empty())
}

/// The main thread's ident: its OS thread's, as MicroPython's and CPython's.
fn main_ident() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

pub(crate) fn current_ident() -> u64 {
    THREADS.with(|t| t.current.borrow().as_ref().map_or_else(main_ident, |th| th.ident))
}

/// Gives up the running thread's turn until `wait` is over (a thread other than the main one).
fn park(wait: Wait) {
    let Some(me) = THREADS.with(|t| t.current.borrow().clone()) else { return };
    let yielder = me.yielder.get();
    drop(me);
    // SAFETY: the yielder lives on this thread's stack for as long as its body runs, and the
    // body is what is running.
    unsafe { (*yielder).suspend(wait) };
}

/// Resumes `th` until it gives up its turn or ends (from the main thread).
fn resume(th: &Rc<Thread>) {
    if th.finished.get() {
        // Ended in a round nested in this one (a finaliser's code took a turn for the others).
        return;
    }
    THREADS.with(|t| *t.current.borrow_mut() = Some(th.clone()));
    swap_green_thread_locals(&mut th.locals.borrow_mut());
    let outcome = th.body.borrow_mut().resume(());
    swap_green_thread_locals(&mut th.locals.borrow_mut());
    THREADS.with(|t| *t.current.borrow_mut() = None);
    match outcome {
        CoroutineResult::Yield(wait) => {
            let old = th.wait.replace(wait);
            drop(old);
        }
        CoroutineResult::Return(()) => {
            let removed = THREADS.with(|t| {
                let mut all = t.all.borrow_mut();
                all.iter().position(|o| Rc::ptr_eq(o, th)).map(|i| all.remove(i))
            });
            th.finished.set(true);
            if removed.is_some() {
                LIVE.fetch_sub(1, Ordering::Relaxed);
            }
            // The stack and the VM go with the last reference (`Drop for Thread`).
            drop(removed);
        }
    }
}

/// Gives every thread that can run one turn, in order. False when none could.
fn run_round() -> bool {
    let now = sched().now_us();
    let ready: Vec<Rc<Thread>> =
        THREADS.with(|t| t.all.borrow().iter().filter(|th| th.wait.borrow().ready(now)).cloned().collect());
    for th in &ready {
        resume(th);
    }
    !ready.is_empty()
}

/// The main thread waits until `until` (µs on the loop's clock, None: no limit) or until `fd`
/// is readable, letting the other threads run meanwhile. Returns after the first round in which
/// a thread ran, or when the wait is over, for the caller to look at its own work again.
pub(crate) fn wait_main(until: Option<u64>, fd: Option<RawFd>) {
    if run_round() {
        return;
    }
    let s = sched();
    let now = s.now_us();
    let next = THREADS.with(|t| t.all.borrow().iter().filter_map(|th| th.wait.borrow().deadline()).min());
    let wake = match (until, next) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if s.clock.is_manual()
        && let Some(t) = wake
    {
        // Virtual time moves when every thread waits: to the first deadline, the caller's or a
        // thread's.
        s.clock.advance_to(t.max(now));
        run_round();
        return;
    }
    // Rounded up, so that the deadline has passed on waking.
    let timeout = wake.map_or(-1, |t| t.saturating_sub(now).div_ceil(1000).min(i32::MAX as u64) as i32);
    let mut pfd = libc::pollfd { fd: fd.unwrap_or(-1), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd (a negative fd is ignored by poll). EINTR (a signal) returns
    // early, for the caller to run the handlers.
    unsafe { libc::poll(&mut pfd, 1, timeout) };
    run_round();
}

/// `time.sleep` in a thread other than the main one: gives up its turn until `end` (µs on the
/// loop's clock); a zero sleep gives up one turn.
pub(crate) fn sleep_in_thread(end: u64) {
    let s = sched();
    if s.now_us() >= end {
        park(Wait::Turn);
        return;
    }
    while s.now_us() < end {
        park(Wait::Until(end));
    }
}

/// The loop's poll in a thread other than the main one: gives up a turn (until the timeout
/// when there is one) instead of blocking every thread.
pub(crate) fn poll_in_thread(timeout: Option<Duration>) {
    match timeout {
        Some(d) if !d.is_zero() => park(Wait::Until(sched().now_us().saturating_add(d.as_micros() as u64))),
        // The loop in this thread waits without a deadline: it looks again every
        // millisecond rather than every round, which would keep the CPU busy.
        _ => park(Wait::Until(sched().now_us().saturating_add(1000))),
    }
}

/// Called between bytecodes when the timer asked for a switch, or when a signal is pending and
/// a thread without signal handlers runs: a thread gives the others a turn; the main thread
/// gives each waiting thread one.
fn switch_hook(_vm: &VirtualMachine) -> PyResult<()> {
    if in_thread() {
        park(Wait::Turn);
    } else if others_exist() {
        run_round();
    }
    Ok(())
}

/// Called when a lock of the VM's (a text stream's, an iterator's) is held where the running
/// thread would take it: when other threads exist, one of them holds it (switched away from
/// while it ran Python code under the lock), so they run first and the caller tries again.
fn contention_hook(_vm: &VirtualMachine) -> bool {
    if in_thread() {
        park(Wait::Turn);
        true
    } else if others_exist() {
        wait_main(Some(sched().now_us().saturating_add(1000)), None);
        true
    } else {
        false
    }
}

/// Starts the switch timer once; wakes it when threads start.
fn wake_slicer() {
    let slicer = SLICER.get_or_init(|| {
        rustpython_vm::signal::set_switch_hook(switch_hook);
        rustpython_vm::signal::set_contention_hook(contention_hook);
        std::thread::Builder::new()
            .name("microloop-slice".into())
            .spawn(|| {
                loop {
                    if LIVE.load(Ordering::Relaxed) == 0 {
                        std::thread::park();
                        continue;
                    }
                    std::thread::sleep(SLICE);
                    rustpython_vm::signal::request_switch();
                }
            })
            .map(|h| h.thread().clone())
            .expect("the switch timer thread starts")
    });
    slicer.unpark();
}

/// Forgets the threads still running when a runtime ends: they never run again, and their
/// stacks are left as they are (unwinding them would run their code's finalisers).
pub(crate) fn abandon() {
    _thread::forget_handles();
    let left = THREADS.with(|t| std::mem::take(&mut *t.all.borrow_mut()));
    LIVE.fetch_sub(left.len(), Ordering::Relaxed);
    std::mem::forget(left);
}

/// Makes `import _thread` give this module.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    let module = vm.import("_microloop_thread", 0)?;
    module.set_attr("__name__", vm.ctx.new_str("_thread"), vm)?;
    vm.sys_module.get_attr("modules", vm)?.set_item("_thread", module.clone(), vm)?;
    let local = vm.import("_microloop_local", 0)?.get_attr("_local", vm)?;
    module.set_attr("_local", local, vm)?;
    vm.sys_module.get_attr("modules", vm)?.set_item("_thread", module, vm)
}

/// `threading._shutdown()` when the program imported `threading`: waits for the threads it
/// started as non-daemons, as CPython does at the end of a program.
pub(crate) fn join_non_daemon(vm: &VirtualMachine) -> PyResult<()> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    match modules.get_item("threading", vm) {
        Ok(threading) if others_exist() => vm.call_method(&threading, "_shutdown", ()).map(drop),
        _ => Ok(()),
    }
}

/// Starts `func(*args, **kwargs)` in a new thread; returns its ident. `done` is released when
/// it ends.
fn spawn(func: PyObjectRef, args: FuncArgs, done: Option<PyRef<_thread::PyLock>>, vm: &VirtualMachine) -> PyResult<u64> {
    let size = THREADS.with(|t| t.stack_size.get());
    // A smaller setting is taken as the smallest the VM runs in, as MicroPython rounds up.
    let size = if size == 0 { DEFAULT_STACK } else { size.max(MIN_STACK) };
    let stack = DefaultStack::new(size).map_err(|_| vm.new_runtime_error("can't create thread"))?;
    let (low, high) = (stack.limit().get(), stack.base().get());
    let thread_vm = Box::new(vm.new_green_thread((low, high)));
    let vm_ptr: *const VirtualMachine = &*thread_vm;
    let yielder: Rc<Cell<*const Yielder<(), Wait>>> = Rc::new(Cell::new(std::ptr::null()));
    let set_yielder = yielder.clone();
    let body = Coroutine::with_stack(stack, move |y: &Yielder<(), Wait>, ()| {
        set_yielder.set(y);
        drop(set_yielder);
        // SAFETY: the VM is boxed in the thread's record, which outlives its body's run.
        let vm = unsafe { &*vm_ptr };
        enter_vm(vm, || {
            run_body(&func, args, vm);
            drop(func);
            if let Some(done) = done {
                done.unlock();
            }
        });
    });
    let ident = main_ident().wrapping_add(NEXT_IDENT.fetch_add(1, Ordering::Relaxed) as u64);
    let th = Rc::new(Thread {
        ident,
        body: RefCell::new(ManuallyDrop::new(body)),
        vm: ManuallyDrop::new(thread_vm),
        locals: RefCell::new(GreenThreadLocals::default()),
        yielder,
        wait: RefCell::new(Wait::Turn),
        finished: Cell::new(false),
    });
    THREADS.with(|t| t.all.borrow_mut().push(th));
    LIVE.fetch_add(1, Ordering::Relaxed);
    wake_slicer();
    Ok(ident)
}

/// Runs a thread's function; an exception other than SystemExit is printed as MicroPython
/// prints it, to stderr, and ends only this thread.
fn run_body(func: &PyObjectRef, args: FuncArgs, vm: &VirtualMachine) {
    if let Err(exc) = func.call_with_args(args, vm) {
        report(func, &exc, vm);
    }
}

fn report(func: &PyObjectRef, exc: &PyBaseExceptionRef, vm: &VirtualMachine) {
    if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
        return;
    }
    let what = func.repr(vm).map(|r| r.to_string()).unwrap_or_else(|_| "<function>".to_owned());
    crate::traceback::write_stderr(vm, &format!("Unhandled exception in thread started by {what}\n"));
    crate::traceback::print_exception(vm, exc, None);
}

/// Registered as `_microloop_thread` and installed as `sys.modules["_thread"]` by [`install`]:
/// the VM imports a placeholder `_thread` of its own while it starts, for the import system.
#[rustpython_vm::pymodule(name = "_microloop_thread")]
mod _thread {
    use std::cell::Cell;

    use rustpython_vm::builtins::{PyDictRef, PyTupleRef, PyTypeRef};
    use rustpython_vm::function::{FuncArgs, KwArgs, OptionalArg};
    use rustpython_vm::types::Representable;
    use rustpython_vm::{Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine, pyclass};

    use super::{Wait, current_ident, in_thread, park, sched, spawn, wait_main};

    /// The longest timeout `acquire` takes, in seconds (CPython's name).
    #[pyattr]
    const TIMEOUT_MAX: f64 = 4_294_967.0;

    /// CPython's name for the error `_thread` raises.
    #[pyattr]
    fn error(vm: &VirtualMachine) -> PyTypeRef {
        vm.ctx.exceptions.runtime_error.to_owned()
    }

    /// The lock type, by MicroPython's name.
    #[pyattr(name = "LockType")]
    fn lock_type(_vm: &VirtualMachine) -> PyTypeRef {
        <PyLock as rustpython_vm::class::StaticType>::static_type().to_owned()
    }

    /// A lock: one thread holds it at a time; any thread may release it.
    #[pyattr]
    #[pyclass(module = "_thread", name = "lock")]
    #[derive(Debug, PyPayload)]
    pub(crate) struct PyLock {
        locked: Cell<bool>,
    }

    impl PyLock {
        pub(crate) fn is_locked(&self) -> bool {
            self.locked.get()
        }

        pub(crate) fn unlock(&self) {
            self.locked.set(false);
        }

        fn new_ref(locked: bool, vm: &VirtualMachine) -> PyRef<Self> {
            PyLock { locked: Cell::new(locked) }.into_ref(&vm.ctx)
        }

        /// Takes the lock, waiting (letting the other threads run) while another holds it, up
        /// to `timeout` seconds when one is given. True when taken.
        fn take(zelf: &Py<Self>, blocking: bool, timeout: Option<f64>, vm: &VirtualMachine) -> PyResult<bool> {
            if !zelf.locked.get() {
                zelf.locked.set(true);
                return Ok(true);
            }
            if !blocking {
                return Ok(false);
            }
            let s = sched();
            let deadline = timeout.map(|t| s.now_us().saturating_add((t * 1e6) as u64));
            loop {
                if in_thread() {
                    park(Wait::Lock(zelf.to_owned(), deadline));
                } else {
                    wait_main(deadline, None);
                    vm.check_signals()?;
                }
                if !zelf.locked.get() {
                    zelf.locked.set(true);
                    return Ok(true);
                }
                if deadline.is_some_and(|t| s.now_us() >= t) {
                    return Ok(false);
                }
            }
        }
    }

    impl rustpython_vm::types::Constructor for PyLock {
        type Args = ();

        /// `LockType()`: CPython's `threading.Lock()` makes locks so.
        fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: (), _vm: &VirtualMachine) -> PyResult<Self> {
            Ok(PyLock { locked: Cell::new(false) })
        }
    }

    #[pyclass(with(rustpython_vm::types::Constructor, Representable))]
    impl PyLock {
        /// `acquire(waitflag=1, timeout=-1)`: MicroPython's flag, CPython's timeout (also as
        /// the keywords `blocking` and `timeout`).
        #[pymethod]
        fn acquire(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<bool> {
            let (blocking, timeout) = acquire_args(args, vm)?;
            Self::take(zelf, blocking, timeout, vm)
        }

        #[pymethod(name = "__enter__")]
        fn enter(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<bool> {
            Self::acquire(zelf, args, vm)
        }

        /// Releases the lock; RuntimeError when it is not held.
        #[pymethod]
        fn release(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
            if !zelf.locked.get() {
                return Err(vm.new_exception_empty(vm.ctx.exceptions.runtime_error.to_owned()));
            }
            zelf.locked.set(false);
            Ok(())
        }

        #[pymethod(name = "__exit__")]
        fn exit(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
            Self::release(zelf, vm)
        }

        #[pymethod]
        fn locked(zelf: &Py<Self>) -> bool {
            zelf.locked.get()
        }

        /// CPython's, for after a fork: the lock is free again.
        #[pymethod]
        fn _at_fork_reinit(zelf: &Py<Self>) {
            zelf.locked.set(false);
        }
    }

    impl Representable for PyLock {
        /// MicroPython's: `<lock>`.
        fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
            Ok("<lock>".to_owned())
        }
    }

    /// CPython's reentrant lock: the thread holding it may take it again, and must release it
    /// as many times.
    #[pyattr]
    #[pyclass(module = "_thread", name = "RLock")]
    #[derive(Debug, PyPayload)]
    pub(crate) struct PyRLock {
        lock: PyRef<PyLock>,
        owner: Cell<u64>,
        count: Cell<usize>,
    }

    impl rustpython_vm::types::Constructor for PyRLock {
        type Args = FuncArgs;

        fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
            Ok(PyRLock { lock: PyLock::new_ref(false, vm), owner: Cell::new(0), count: Cell::new(0) })
        }
    }

    #[pyclass(with(rustpython_vm::types::Constructor, Representable))]
    impl PyRLock {
        #[pymethod]
        fn acquire(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<bool> {
            let (blocking, timeout) = acquire_args(args, vm)?;
            let me = current_ident();
            if zelf.count.get() > 0 && zelf.owner.get() == me {
                zelf.count.set(zelf.count.get() + 1);
                return Ok(true);
            }
            if !PyLock::take(&zelf.lock, blocking, timeout, vm)? {
                return Ok(false);
            }
            zelf.owner.set(me);
            zelf.count.set(1);
            Ok(true)
        }

        #[pymethod(name = "__enter__")]
        fn enter(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<bool> {
            Self::acquire(zelf, args, vm)
        }

        /// Releases one level; RuntimeError when the calling thread does not hold it.
        #[pymethod]
        fn release(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
            if zelf.count.get() == 0 || zelf.owner.get() != current_ident() {
                return Err(vm.new_runtime_error("cannot release un-acquired lock"));
            }
            zelf.count.set(zelf.count.get() - 1);
            if zelf.count.get() == 0 {
                zelf.owner.set(0);
                zelf.lock.unlock();
            }
            Ok(())
        }

        #[pymethod(name = "__exit__")]
        fn exit(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
            Self::release(zelf, vm)
        }

        #[pymethod]
        fn locked(zelf: &Py<Self>) -> bool {
            zelf.count.get() > 0
        }

        #[pymethod]
        fn _is_owned(zelf: &Py<Self>) -> bool {
            zelf.count.get() > 0 && zelf.owner.get() == current_ident()
        }

        #[pymethod]
        fn _recursion_count(zelf: &Py<Self>) -> usize {
            if Self::_is_owned(zelf) { zelf.count.get() } else { 0 }
        }

        /// For `threading.Condition.wait`: releases every level; returns what `_acquire_restore`
        /// needs to take them back.
        #[pymethod]
        fn _release_save(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<(usize, u64)> {
            if zelf.count.get() == 0 {
                return Err(vm.new_runtime_error("cannot release un-acquired lock"));
            }
            let saved = (zelf.count.replace(0), zelf.owner.replace(0));
            zelf.lock.unlock();
            Ok(saved)
        }

        #[pymethod]
        fn _acquire_restore(zelf: &Py<Self>, state: PyTupleRef, vm: &VirtualMachine) -> PyResult<()> {
            let [count, owner] = state.as_slice() else {
                return Err(vm.new_type_error("_acquire_restore() takes a (count, owner) tuple"));
            };
            let (count, owner): (usize, u64) = (count.try_to_value(vm)?, owner.try_to_value(vm)?);
            PyLock::take(&zelf.lock, true, None, vm)?;
            zelf.count.set(count);
            zelf.owner.set(owner);
            Ok(())
        }
    }

    impl Representable for PyRLock {
        fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
            let state = if zelf.count.get() > 0 { "locked" } else { "unlocked" };
            Ok(format!("<{state} _thread.RLock object owner={} count={}>", zelf.owner.get(), zelf.count.get()))
        }
    }

    /// The blocking flag and the timeout (None: none) of `acquire`'s arguments.
    fn acquire_args(mut args: FuncArgs, vm: &VirtualMachine) -> PyResult<(bool, Option<f64>)> {
        let blocking = args.take_positional_keyword("blocking").or_else(|| args.take_keyword("waitflag"));
        let timeout = args.take_positional_keyword("timeout");
        if let Some(extra) = args.args.first().or_else(|| args.kwargs.values().next()) {
            let _ = extra;
            return Err(vm.new_type_error("acquire() takes at most 2 arguments"));
        }
        let blocking = match blocking {
            Some(b) => b.try_to_bool(vm)?,
            None => true,
        };
        let timeout = match timeout {
            Some(t) if !vm.is_none(&t) => {
                let t: f64 = t.try_float(vm)?.to_f64();
                if t == -1.0 {
                    None
                } else if !blocking {
                    return Err(vm.new_value_error("can't specify a timeout for a non-blocking call"));
                } else if t < 0.0 {
                    return Err(vm.new_value_error("timeout value must be a non-negative number"));
                } else if t > TIMEOUT_MAX {
                    return Err(vm.new_overflow_error("timeout value is too large"));
                } else {
                    Some(t)
                }
            }
            _ => None,
        };
        Ok((blocking, timeout))
    }

    /// `allocate_lock()`: a new, unlocked lock.
    #[pyfunction]
    fn allocate_lock(vm: &VirtualMachine) -> PyRef<PyLock> {
        PyLock::new_ref(false, vm)
    }

    /// CPython's old name for `allocate_lock`.
    #[pyfunction]
    fn allocate(vm: &VirtualMachine) -> PyRef<PyLock> {
        PyLock::new_ref(false, vm)
    }

    /// `start_new_thread(function, args[, kwargs])`: runs `function(*args, **kwargs)` in a new
    /// thread; returns its ident.
    #[pyfunction]
    fn start_new_thread(
        func: PyObjectRef,
        args: PyObjectRef,
        kwargs: OptionalArg<PyObjectRef>,
        vm: &VirtualMachine,
    ) -> PyResult<u64> {
        let call_args = call_args(args, kwargs, vm)?;
        spawn(func, call_args, None, vm)
    }

    /// CPython's old name for `start_new_thread`.
    #[pyfunction]
    fn start_new(func: PyObjectRef, args: PyObjectRef, kwargs: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<u64> {
        start_new_thread(func, args, kwargs, vm)
    }

    /// The call's arguments, checked as MicroPython checks them: a tuple or a list, and a dict.
    /// A function that cannot be called fails in the new thread, as there.
    fn call_args(args: PyObjectRef, kwargs: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<FuncArgs> {
        let args: Vec<PyObjectRef> = if let Some(t) = args.downcast_ref::<rustpython_vm::builtins::PyTuple>() {
            t.as_slice().to_vec()
        } else if let Some(l) = args.downcast_ref::<rustpython_vm::builtins::PyList>() {
            l.borrow_vec().to_vec()
        } else {
            return Err(vm.new_type_error(format!("object '{}' isn't a tuple or list", args.class().name())));
        };
        let kwargs: KwArgs = match kwargs {
            OptionalArg::Present(k) => {
                let dict: PyDictRef =
                    k.downcast().map_err(|_| vm.new_type_error("expecting a dict for keyword args"))?;
                let mut kw = Vec::new();
                for (key, value) in &dict {
                    let key = key
                        .downcast_ref::<rustpython_vm::builtins::PyStr>()
                        .and_then(|k| k.to_str())
                        .ok_or_else(|| vm.new_type_error("keywords must be strings"))?
                        .to_owned();
                    kw.push((key, value));
                }
                kw.into_iter().collect()
            }
            OptionalArg::Missing => KwArgs::default(),
        };
        Ok(FuncArgs::new(args, kwargs))
    }

    /// Ends the calling thread (raises SystemExit, which the thread's start ignores).
    #[pyfunction]
    fn exit(vm: &VirtualMachine) -> PyResult<()> {
        Err(vm.new_exception_empty(vm.ctx.exceptions.system_exit.to_owned()))
    }

    /// CPython's old name for `exit`.
    #[pyfunction]
    fn exit_thread(vm: &VirtualMachine) -> PyResult<()> {
        exit(vm)
    }

    /// The calling thread's ident, a nonzero int no other running thread has.
    #[pyfunction]
    fn get_ident() -> u64 {
        current_ident()
    }

    /// CPython's: the same number as `get_ident`.
    #[pyfunction]
    fn get_native_id() -> u64 {
        current_ident()
    }

    /// `stack_size([size])`: the stack size for threads started from now on (0: the default);
    /// returns the previous setting.
    #[pyfunction]
    fn stack_size(size: OptionalArg<isize>, vm: &VirtualMachine) -> PyResult<usize> {
        super::THREADS.with(|t| {
            let old = t.stack_size.get();
            match size {
                OptionalArg::Present(n) if n < 0 => Err(vm.new_value_error("size must be 0 or a positive value")),
                OptionalArg::Present(n) => {
                    t.stack_size.set(n as usize);
                    Ok(old)
                }
                OptionalArg::Missing => {
                    t.stack_size.set(0);
                    Ok(old)
                }
            }
        })
    }

    /// CPython's: the number of threads running besides the main one.
    #[pyfunction]
    fn _count() -> usize {
        super::THREADS.with(|t| t.all.borrow().len())
    }

    /// CPython's: the main thread's ident.
    #[pyfunction]
    fn _get_main_thread_ident() -> u64 {
        super::main_ident()
    }

    #[pyfunction]
    fn _is_main_interpreter() -> bool {
        true
    }

    #[pyfunction]
    fn daemon_threads_allowed() -> bool {
        true
    }

    /// A thread's handle for `threading`: its ident, and whether it has ended.
    #[pyattr]
    #[pyclass(module = "_thread", name = "_ThreadHandle")]
    #[derive(Debug, PyPayload)]
    pub(crate) struct PyThreadHandle {
        ident: Cell<u64>,
        /// Held while the thread runs.
        running: PyRef<PyLock>,
    }

    impl rustpython_vm::types::Constructor for PyThreadHandle {
        type Args = ();

        /// A handle for a thread `start_joinable_thread` will start.
        fn py_new(_cls: &Py<rustpython_vm::builtins::PyType>, _args: (), vm: &VirtualMachine) -> PyResult<Self> {
            Ok(PyThreadHandle { ident: Cell::new(0), running: PyLock::new_ref(false, vm) })
        }
    }

    #[pyclass(with(rustpython_vm::types::Constructor))]
    impl PyThreadHandle {
        #[pygetset]
        fn ident(zelf: &Py<Self>) -> u64 {
            zelf.ident.get()
        }

        /// Waits until the thread has ended, up to `timeout` seconds (None: no limit).
        #[pymethod]
        fn join(zelf: &Py<Self>, timeout: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
            if zelf.ident.get() == current_ident() && zelf.running.is_locked() {
                return Err(vm.new_runtime_error("Cannot join current thread"));
            }
            let timeout = match timeout.into_option().filter(|t| !vm.is_none(t)) {
                Some(t) => Some(t.try_float(vm)?.to_f64().max(0.0)),
                None => None,
            };
            if PyLock::take(&zelf.running, true, timeout, vm)? {
                zelf.running.unlock();
            }
            Ok(())
        }

        #[pymethod]
        fn is_done(zelf: &Py<Self>) -> bool {
            !zelf.running.is_locked()
        }

        #[pymethod]
        fn _set_done(zelf: &Py<Self>) {
            zelf.running.unlock();
        }
    }

    fn new_handle(ident: u64, running: bool, vm: &VirtualMachine) -> PyRef<PyThreadHandle> {
        PyThreadHandle { ident: Cell::new(ident), running: PyLock::new_ref(running, vm) }.into_ref(&vm.ctx)
    }

    /// CPython 3.13's `start_joinable_thread(function, handle=None, daemon=True)`.
    #[pyfunction]
    fn start_joinable_thread(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyThreadHandle>> {
        let mut args = args;
        let func = args
            .take_positional_keyword("function")
            .ok_or_else(|| vm.new_type_error("start_joinable_thread() missing required argument 'function'"))?;
        let handle = args.take_positional_keyword("handle").filter(|h| !vm.is_none(h));
        let daemon = match args.take_positional_keyword("daemon") {
            Some(d) => d.try_to_bool(vm)?,
            None => true,
        };
        if !func.is_callable() {
            return Err(vm.new_type_error("thread function must be callable"));
        }
        let handle = match handle {
            Some(h) => h.downcast::<PyThreadHandle>().map_err(|_| vm.new_type_error("'handle' must be a _ThreadHandle"))?,
            None => new_handle(0, true, vm),
        };
        handle.running.locked.set(true);
        let ident = spawn(func, FuncArgs::default(), Some(handle.running.clone()), vm)?;
        handle.ident.set(ident);
        if !daemon {
            NON_DAEMON.with(|h| h.borrow_mut().push(handle.clone()));
        }
        Ok(handle)
    }

    /// CPython's: a handle for a thread `threading` did not start (the main thread).
    #[pyfunction]
    fn _make_thread_handle(ident: u64, vm: &VirtualMachine) -> PyRef<PyThreadHandle> {
        new_handle(ident, true, vm)
    }

    /// CPython's: waits for the threads `threading` started and did not mark as daemons (at
    /// the end of the program, through `threading._shutdown`).
    #[pyfunction]
    fn _shutdown(vm: &VirtualMachine) -> PyResult<()> {
        loop {
            let Some(handle) = NON_DAEMON.with(|h| h.borrow_mut().pop()) else { return Ok(()) };
            PyThreadHandle::join(&handle, OptionalArg::Missing, vm)?;
        }
    }

    thread_local! {
        /// The handles of the non-daemon threads `threading` started, for `_shutdown`.
        static NON_DAEMON: std::cell::RefCell<Vec<PyRef<PyThreadHandle>>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Forgets the handles `_shutdown` would wait for (the runtime is ending).
    pub(crate) fn forget_handles() {
        let handles = NON_DAEMON.with(|h| std::mem::take(&mut *h.borrow_mut()));
        drop(handles);
    }
}
