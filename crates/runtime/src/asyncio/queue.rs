//! CPython's asyncio queues (`asyncio.queues`), which MicroPython's asyncio lacks: `Queue`,
//! `LifoQueue`, `PriorityQueue` and the exceptions `QueueEmpty`, `QueueFull` and (CPython 3.13)
//! `QueueShutDown`, with CPython's behaviour, order of wake-ups and messages.
//!
//! Waking follows CPython's `queues.py` step for step, as a program can observe it:
//! - `put_nowait()` (and so `put()`) wakes the oldest task parked in `get()`; `get_nowait()`
//!   (and so `get()`) wakes the oldest task parked in `put()`. A woken task is made ready and
//!   looks again when it runs: if another task took the item (or the free slot) meanwhile, it
//!   parks again, at the back.
//! - A parked task that is cancelled (or timed out) leaves the queue at once
//!   ([`Wait::Site`], removed by the scheduler's one cancellation rule). A task that was woken
//!   and is cancelled before it runs passes the wake-up on to the next waiter when the queue
//!   still has an item (a free slot), as CPython's `get()` (`put()`) does on its way out
//!   ([`Wait::SiteGranted`] and [`WaitSite::give_back`]).
//! - `join()` waits while `task_done()` has not been called for every item put; the last
//!   `task_done()` wakes every joiner at once, oldest first (CPython's `_finished` Event).
//! - `shutdown(immediate=False)` (3.13) makes `put()` raise QueueShutDown and `get()` raise it
//!   once the queue is empty (at once with `immediate`, which drops the items and counts each
//!   as done), and wakes every parked getter and putter to see that.
//!
//! `PriorityQueue` keeps its items in a binary heap ordered by `<` alone, with the algorithm of
//! CPython's `heapq` (`heappush` sifts the new item towards the root; `heappop` moves the last
//! item to the root, walks it down along the smaller children to a leaf, then sifts it up), so
//! equal priorities come out in the order CPython's give them and `__lt__` is called on the
//! same pairs in the same order.
//!
//! The items live in a Rust deque. Programs reach for CPython's internals too: a subclass
//! overrides `_init`, `_put` and `_get` (the hooks `PriorityQueue` itself uses in CPython), or
//! reads and edits `self._queue` (a `collections.deque`, a list for the other two) to peek,
//! shuffle or clear. The first time `_queue` is read or assigned the items move to that Python
//! object for good, and every operation goes through it; a subclass's queue calls its own
//! `empty()`, `full()`, `qsize()`, `put_nowait()`, `get_nowait()`, `_put()`, `_get()`, `_init()`
//! and `_format()` by name, as CPython's methods do. A plain queue nobody looks into keeps the
//! Rust deque and calls nothing by name. `_maxsize`, `_unfinished_tasks` and `_is_shutdown` are
//! read and written as attributes; `_getters`, `_putters`, `_finished` and `_wakeup_next` do
//! not exist here.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;

use microloop_core::{WaitKey, WaitQueue};
use rustpython_vm::{
    AsObject, Py, PyObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyBoundMethod, PyGenericAlias, PyInt, PyList, PyType, PyTypeRef},
    class::PyClassImpl,
    function::{FuncArgs, OptionalArg, PySetterValue},
    protocol::PyIterReturn,
    pyclass,
    types::{Callable, Constructor, GetDescriptor, Initializer, IterNext, Iterable, PyComparisonOp, Representable, SelfIter},
};

use super::core::{Scheduler, current_task, sched};
use super::task::{PyTask, Wait, WaitSite};

/// How a task parked in `get()` leaves the queue when cancelled, and passes its wake-up on when
/// cancelled after `put_nowait()` woke it.
static GET_SITE: WaitSite = WaitSite { what: "Queue.get", remove: remove_getter, give_back: give_back_getter };

/// The same for a task parked in `put()` on a full queue.
static PUT_SITE: WaitSite = WaitSite { what: "Queue.put", remove: remove_putter, give_back: give_back_putter };

/// A task parked in `join()`. Joiners are woken all at once and have nothing to pass on.
static JOIN_SITE: WaitSite = WaitSite { what: "Queue.join", remove: remove_joiner, give_back: give_back_nothing };

/// [`WaitSite::remove`] for `get()`.
fn remove_getter(obj: &PyObject, key: WaitKey) {
    if let Some(queue) = obj.downcast_ref::<PyQueue>() {
        // Dropped after the borrow ends: dropping an object can run code.
        let removed = queue.getters.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::remove`] for `put()`.
fn remove_putter(obj: &PyObject, key: WaitKey) {
    if let Some(queue) = obj.downcast_ref::<PyQueue>() {
        let removed = queue.putters.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::remove`] for `join()`.
fn remove_joiner(obj: &PyObject, key: WaitKey) {
    if let Some(queue) = obj.downcast_ref::<PyQueue>() {
        let removed = queue.joiners.borrow_mut().remove(key);
        drop(removed);
    }
}

/// [`WaitSite::give_back`] for `get()`: a getter woken by `put_nowait()` (or `shutdown()`) was
/// cancelled before it ran. CPython's `get()` then wakes the next getter if the queue still
/// holds an item.
fn give_back_getter(obj: &PyObject, sched: &Scheduler) {
    if let Some(queue) = obj.downcast_ref::<PyQueue>()
        && outside_task(|vm| PyQueue::is_empty(queue, vm)) == Some(false)
    {
        PyQueue::wake_next(queue, &queue.getters, &GET_SITE, sched);
    }
}

/// [`WaitSite::give_back`] for `put()`: a putter woken by `get_nowait()` (or `shutdown()`) was
/// cancelled before it ran; the next putter is woken if there is room.
fn give_back_putter(obj: &PyObject, sched: &Scheduler) {
    if let Some(queue) = obj.downcast_ref::<PyQueue>()
        && outside_task(|vm| PyQueue::is_full(queue, vm)) == Some(false)
    {
        PyQueue::wake_next(queue, &queue.putters, &PUT_SITE, sched);
    }
}

/// [`WaitSite::give_back`] for `join()`: joiners are made plainly ready, all at once, as
/// CPython's `Event.set()` wakes them; nothing is handed to one that another could take.
fn give_back_nothing(_obj: &PyObject, _sched: &Scheduler) {}

/// Asks `f` a question about a queue from the scheduler, which has no VM at hand: with the
/// thread's VM, None if there is none or `f` raised. Only a subclass's own `empty()` or
/// `full()`, or a `_queue` replaced by the program, run Python code here; what they raise has
/// no task to go to (CPython raises it in the cancelled task instead of its CancelledError),
/// so the wake-up is not passed on.
fn outside_task(f: impl FnOnce(&VirtualMachine) -> PyResult<bool>) -> Option<bool> {
    rustpython_vm::vm::thread::try_with_current_vm(|vm| f(vm).ok()).flatten()
}

thread_local! {
    static QUEUE_EMPTY: OnceCell<PyTypeRef> = const { OnceCell::new() };
    static QUEUE_FULL: OnceCell<PyTypeRef> = const { OnceCell::new() };
    static QUEUE_SHUT_DOWN: OnceCell<PyTypeRef> = const { OnceCell::new() };
    static LIFO_QUEUE: OnceCell<PyTypeRef> = const { OnceCell::new() };
    static PRIORITY_QUEUE: OnceCell<PyTypeRef> = const { OnceCell::new() };
}

/// An exception class of `asyncio.queues`, made once per thread, subclassing Exception.
fn exception_type(cell: &'static std::thread::LocalKey<OnceCell<PyTypeRef>>, name: &str, vm: &VirtualMachine) -> PyTypeRef {
    cell.with(|c| {
        c.get_or_init(|| {
            vm.ctx.new_exception_type("asyncio.queues", name, Some(vec![vm.ctx.exceptions.exception_type.to_owned()]))
        })
        .clone()
    })
}

/// `QueueEmpty`: `get_nowait()` found the queue empty.
pub(crate) fn queue_empty_type(vm: &VirtualMachine) -> PyTypeRef {
    exception_type(&QUEUE_EMPTY, "QueueEmpty", vm)
}

/// `QueueFull`: `put_nowait()` found the queue full.
pub(crate) fn queue_full_type(vm: &VirtualMachine) -> PyTypeRef {
    exception_type(&QUEUE_FULL, "QueueFull", vm)
}

/// `QueueShutDown` (CPython 3.13): a put, or a get from an empty queue, after `shutdown()`.
pub(crate) fn queue_shut_down_type(vm: &VirtualMachine) -> PyTypeRef {
    exception_type(&QUEUE_SHUT_DOWN, "QueueShutDown", vm)
}

/// A subclass of Queue made once per thread: its instances are Queues whose [`Kind`]
/// `slot_new` reads from the class.
fn queue_subclass(cell: &'static std::thread::LocalKey<OnceCell<PyTypeRef>>, name: &'static str, vm: &VirtualMachine) -> PyTypeRef {
    cell.with(|c| {
        c.get_or_init(|| {
            let slots = rustpython_vm::types::PyTypeSlots::new(name, rustpython_vm::types::PyTypeFlags::HEAP_TYPE_WITH_DICT);
            vm.ctx.new_class(Some("asyncio.queues"), name, PyQueue::make_static_type(), slots)
        })
        .clone()
    })
}

/// `LifoQueue`: a Queue whose items leave last in, first out.
pub(crate) fn lifo_queue_type(vm: &VirtualMachine) -> PyTypeRef {
    queue_subclass(&LIFO_QUEUE, "LifoQueue", vm)
}

/// `PriorityQueue`: a Queue whose smallest item leaves first.
pub(crate) fn priority_queue_type(vm: &VirtualMachine) -> PyTypeRef {
    queue_subclass(&PRIORITY_QUEUE, "PriorityQueue", vm)
}

/// Puts Queue's methods in its class and creates the awaitable types `get()`, `put()` and
/// `join()` return, with the cheap `__await__`.
pub(crate) fn init_types(vm: &VirtualMachine) {
    use super::fastpath::init_awaitable;
    install_methods(vm);
    init_awaitable::<PyQueueGet>(vm);
    init_awaitable::<PyQueuePut>(vm);
    init_awaitable::<PyQueueJoin>(vm);
}

/// Which item leaves first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Queue`: the oldest (CPython's deque, `append` and `popleft`).
    Fifo,
    /// `LifoQueue`: the newest (CPython's list, `append` and `pop`).
    Lifo,
    /// `PriorityQueue`: the smallest by `<` (CPython's list as a heap, `heappush`, `heappop`).
    Priority,
}

/// What `maxsize` means for `full()`, worked out once when it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// An int of 0 or less: never full.
    Unbounded,
    /// A positive int: full at this many items.
    Items(usize),
    /// Anything else (a float, an object): compared as CPython compares it, `maxsize <= 0`,
    /// then `qsize() >= maxsize`, which may raise.
    Compare,
}

/// Where the items are.
#[derive(Debug)]
enum Items {
    /// In Rust: the oldest first for Fifo and Lifo, a heap for Priority.
    Native(VecDeque<PyObjectRef>),
    /// In the Python object `_queue` names (a deque or a list), since the program read or set
    /// `_queue`. Every operation goes through the object's methods then.
    Object(PyObjectRef),
}

/// A queue of items for producer and consumer tasks; `Queue(maxsize)` bounds it (0 or less:
/// unbounded). Subclassable, with an instance dict made on the first attribute set.
#[pyclass(module = "asyncio.queues", name = "Queue")]
#[derive(Debug, PyPayload)]
pub struct PyQueue {
    /// Which item leaves first (from the class: Queue, LifoQueue, PriorityQueue).
    kind: Kind,
    /// Whether the class is one of the three itself, not a program's subclass: then nothing is
    /// called by name (a subclass may override any method CPython's methods call).
    plain: bool,
    /// `maxsize` as given (CPython keeps the object: `Queue(2.5).maxsize` is 2.5).
    maxsize: RefCell<PyObjectRef>,
    /// What `maxsize` means for `full()`.
    bound: Cell<Bound>,
    /// The items.
    items: RefCell<Items>,
    /// Items put and not yet marked done by `task_done()` (CPython's `_unfinished_tasks`).
    unfinished: Cell<i64>,
    /// CPython's `_finished` Event: set while nothing is unfinished; `join()` waits for it.
    finished: Cell<bool>,
    /// Set by `shutdown()` (CPython's `_is_shutdown`).
    shut_down: Cell<bool>,
    /// Tasks parked in `get()`, oldest first.
    getters: RefCell<WaitQueue<PyRef<PyTask>>>,
    /// Tasks parked in `put()`, oldest first.
    putters: RefCell<WaitQueue<PyRef<PyTask>>>,
    /// Tasks parked in `join()`, oldest first.
    joiners: RefCell<WaitQueue<PyRef<PyTask>>>,
}

/// CPython's messages for `Queue.__init__`'s arguments, `(maxsize=0)`: the value of `maxsize`.
fn maxsize_arg(args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    if args.args.len() > 1 {
        return Err(vm.new_type_error(format!(
            "Queue.__init__() takes from 1 to 2 positional arguments but {} were given",
            args.args.len() + 1
        )));
    }
    let mut maxsize = args.args.into_iter().next();
    for (name, value) in args.kwargs {
        if name.as_str() != Ok("maxsize") {
            return Err(vm.new_type_error(format!("Queue.__init__() got an unexpected keyword argument '{name}'")));
        }
        if maxsize.replace(value).is_some() {
            return Err(vm.new_type_error("Queue.__init__() got multiple values for argument 'maxsize'"));
        }
    }
    Ok(maxsize.unwrap_or_else(|| vm.ctx.new_int(0).into()))
}

/// `Queue(...)` makes an empty unbounded queue of the kind its class says and leaves the
/// arguments to `__init__` (a subclass's own takes what it likes).
impl Constructor for PyQueue {
    type Args = FuncArgs;
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let (kind, plain) = if cls.is(PyQueue::class(&vm.ctx)) {
            (Kind::Fifo, true)
        } else {
            let lifo = lifo_queue_type(vm);
            let priority = priority_queue_type(vm);
            let kind = if cls.fast_issubclass(&priority) {
                Kind::Priority
            } else if cls.fast_issubclass(&lifo) {
                Kind::Lifo
            } else {
                Kind::Fifo
            };
            (kind, cls.is(&lifo) || cls.is(&priority))
        };
        PyQueue::fresh(kind, plain, vm).into_ref_with_type_lazy_dict(vm, cls).map(Into::into)
    }
    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        Ok(PyQueue::fresh(Kind::Fifo, true, vm))
    }
}

/// `__init__(maxsize=0)`, which a subclass's `__init__` calls through `super()`: sets
/// `maxsize`, no unfinished items, not shut down, and empties the queue (a subclass's own
/// `_init(maxsize)` is called to do that, as in CPython). Tasks already parked stay parked.
impl Initializer for PyQueue {
    type Args = FuncArgs;
    fn slot_init(zelf: &PyObject, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        Self::init(zelf.try_to_ref::<Self>(vm)?, args, vm)
    }
    fn init(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let maxsize = maxsize_arg(args, vm)?;
        zelf.store_maxsize(maxsize.clone(), vm);
        zelf.unfinished.set(0);
        zelf.finished.set(true);
        zelf.shut_down.set(false);
        if zelf.plain {
            zelf.reset_items();
        } else {
            vm.call_method(zelf.as_object(), "_init", (maxsize,))?;
        }
        Ok(())
    }
}

impl PyQueue {
    fn fresh(kind: Kind, plain: bool, vm: &VirtualMachine) -> Self {
        PyQueue {
            kind,
            plain,
            maxsize: RefCell::new(vm.ctx.new_int(0).into()),
            bound: Cell::new(Bound::Unbounded),
            items: RefCell::new(Items::Native(VecDeque::new())),
            unfinished: Cell::new(0),
            finished: Cell::new(true),
            shut_down: Cell::new(false),
            getters: RefCell::new(WaitQueue::new()),
            putters: RefCell::new(WaitQueue::new()),
            joiners: RefCell::new(WaitQueue::new()),
        }
    }

    /// Sets `maxsize` and works out what it means for `full()`.
    fn store_maxsize(&self, maxsize: PyObjectRef, vm: &VirtualMachine) {
        let cls = maxsize.class();
        let exact_int = cls.is(vm.ctx.types.int_type) || cls.is(vm.ctx.types.bool_type);
        let bound = match maxsize.downcast_ref::<PyInt>() {
            Some(n) if exact_int => {
                let n = n.as_bigint();
                if n <= &0.into() { Bound::Unbounded } else { Bound::Items(n.try_into().unwrap_or(usize::MAX)) }
            }
            _ => Bound::Compare,
        };
        self.bound.set(bound);
        let old = self.maxsize.replace(maxsize);
        drop(old);
    }

    /// Empties the queue into a fresh Rust deque (`_init`).
    fn reset_items(&self) {
        let old = self.items.replace(Items::Native(VecDeque::new()));
        drop(old);
    }

    /// The Python object `_queue` names, if the items live there.
    fn items_object(&self) -> Option<PyObjectRef> {
        match &*self.items.borrow() {
            Items::Object(obj) => Some(obj.clone()),
            Items::Native(_) => None,
        }
    }

    /// How many items there are (CPython's `len(self._queue)`).
    fn len_items(&self, vm: &VirtualMachine) -> PyResult<usize> {
        if let Items::Native(items) = &*self.items.borrow() {
            return Ok(items.len());
        }
        match self.items_object() {
            Some(obj) => obj.length(vm),
            None => Ok(0),
        }
    }

    /// Whether there are no items (CPython's `not self._queue`).
    fn no_items(&self, vm: &VirtualMachine) -> PyResult<bool> {
        if let Items::Native(items) = &*self.items.borrow() {
            return Ok(items.is_empty());
        }
        match self.items_object() {
            Some(obj) => Ok(!obj.try_to_bool(vm)?),
            None => Ok(true),
        }
    }

    /// Adds `item` where its kind says (the built-in `_put`).
    fn push_item(zelf: &Py<Self>, item: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let target = {
            let mut items = zelf.items.borrow_mut();
            match &mut *items {
                Items::Native(items) => {
                    items.push_back(item);
                    if zelf.kind != Kind::Priority {
                        return Ok(());
                    }
                    None
                }
                Items::Object(obj) => Some((obj.clone(), item)),
            }
        };
        match target {
            // A heap push: the item is in place at the end; it is sifted towards the root with
            // no borrow held, since `<` runs Python code.
            None => {
                let last = zelf.len_items(vm)?.saturating_sub(1);
                sift_down(&NativeHeap(&zelf.items), 0, last, vm)
            }
            Some((obj, item)) => match zelf.kind {
                Kind::Fifo | Kind::Lifo => vm.call_method(&obj, "append", (item,)).map(drop),
                Kind::Priority => {
                    let list = heap_list(&obj, vm)?;
                    let last = {
                        let mut items = list.borrow_vec_mut();
                        items.push(item);
                        items.len() - 1
                    };
                    sift_down(&ListHeap(list), 0, last, vm)
                }
            },
        }
    }

    /// Takes the item its kind says leaves next (the built-in `_get`); IndexError when there is
    /// none, with the message of CPython's deque, list or heapq.
    fn pop_item(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let obj = {
            let mut items = zelf.items.borrow_mut();
            match &mut *items {
                Items::Native(items) => match zelf.kind {
                    Kind::Fifo => return items.pop_front().ok_or_else(|| vm.new_index_error("pop from an empty deque")),
                    Kind::Lifo => return items.pop_back().ok_or_else(|| vm.new_index_error("pop from empty list")),
                    Kind::Priority => None,
                },
                Items::Object(obj) => Some(obj.clone()),
            }
        };
        match (obj, zelf.kind) {
            (None, _) => heap_pop(&NativeHeap(&zelf.items), vm),
            (Some(obj), Kind::Fifo) => vm.call_method(&obj, "popleft", ()),
            (Some(obj), Kind::Lifo) => vm.call_method(&obj, "pop", ()),
            (Some(obj), Kind::Priority) => heap_pop(&ListHeap(heap_list(&obj, vm)?), vm),
        }
    }

    /// The items, oldest first (heap order for Priority), for `_format` and `_queue`.
    fn item_list(&self, vm: &VirtualMachine) -> PyResult<Vec<PyObjectRef>> {
        if let Items::Native(items) = &*self.items.borrow() {
            return Ok(items.iter().cloned().collect());
        }
        match self.items_object() {
            Some(obj) => vm.extract_elements_with(&obj, Ok),
            None => Ok(Vec::new()),
        }
    }

    /// `self.empty()`: a subclass's own, or the queue's.
    fn is_empty(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        if zelf.plain {
            zelf.no_items(vm)
        } else {
            vm.call_method(zelf.as_object(), "empty", ())?.try_to_bool(vm)
        }
    }

    /// `self.full()`: a subclass's own, or the queue's.
    fn is_full(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        if zelf.plain {
            PyQueue::full_now(zelf, vm)
        } else {
            vm.call_method(zelf.as_object(), "full", ())?.try_to_bool(vm)
        }
    }

    /// CPython's `full()`: `maxsize <= 0` never is; otherwise `qsize() >= maxsize`.
    fn full_now(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        let bound = zelf.bound.get();
        if bound == Bound::Unbounded {
            return Ok(false);
        }
        let maxsize = zelf.maxsize.borrow().clone();
        if bound == Bound::Compare && maxsize.rich_compare_bool(vm.ctx.new_int(0).as_object(), PyComparisonOp::Le, vm)? {
            return Ok(false);
        }
        let size = if zelf.plain {
            let size = zelf.len_items(vm)?;
            if let Bound::Items(limit) = bound {
                return Ok(size >= limit);
            }
            vm.ctx.new_int(size).into()
        } else {
            vm.call_method(zelf.as_object(), "qsize", ())?
        };
        size.rich_compare_bool(&maxsize, PyComparisonOp::Ge, vm)
    }

    /// Makes the oldest task in `waiters` ready, with the wake-up recorded so that it is
    /// passed on if the task is cancelled before it runs (CPython's `_wakeup_next`).
    fn wake_next(zelf: &Py<Self>, waiters: &RefCell<WaitQueue<PyRef<PyTask>>>, site: &'static WaitSite, sched: &Scheduler) {
        let next = waiters.borrow_mut().pop_front();
        if let Some(task) = next {
            sched.push_ready(task.clone());
            task.set_wait(Wait::SiteGranted(zelf.to_owned().into(), site));
        }
    }

    /// Wakes every task in `waiters`, oldest first, each with a wake-up to pass on.
    fn wake_all(zelf: &Py<Self>, waiters: &RefCell<WaitQueue<PyRef<PyTask>>>, site: &'static WaitSite, sched: &Scheduler) {
        let all: Vec<PyRef<PyTask>> = waiters.borrow_mut().take_all().collect();
        for task in all {
            sched.push_ready(task.clone());
            task.set_wait(Wait::SiteGranted(zelf.to_owned().into(), site));
        }
    }

    /// Sets CPython's `_finished` Event: wakes every joiner, oldest first.
    fn set_finished(&self) {
        if self.finished.replace(true) {
            return;
        }
        let joiners: Vec<PyRef<PyTask>> = self.joiners.borrow_mut().take_all().collect();
        if joiners.is_empty() {
            return;
        }
        let s = sched();
        for task in joiners {
            s.push_ready(task);
        }
    }

    /// `put_nowait(item)` as the queue's own: QueueShutDown after `shutdown()`, QueueFull when
    /// full; then the item goes in (through a subclass's `_put`), counts as unfinished, and the
    /// oldest getter is woken.
    fn put_now(zelf: &Py<Self>, item: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.shut_down.get() {
            return Err(vm.new_exception_empty(queue_shut_down_type(vm)));
        }
        if PyQueue::is_full(zelf, vm)? {
            return Err(vm.new_exception_empty(queue_full_type(vm)));
        }
        PyQueue::put_unchecked(zelf, item, vm)
    }

    /// The rest of `put_nowait(item)` once the checks passed: the item goes in (through a
    /// subclass's `_put`), counts as unfinished, and the oldest getter is woken.
    fn put_unchecked(zelf: &Py<Self>, item: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if zelf.plain {
            PyQueue::push_item(zelf, item, vm)?;
        } else {
            vm.call_method(zelf.as_object(), "_put", (item,))?;
        }
        zelf.unfinished.set(zelf.unfinished.get().saturating_add(1));
        zelf.finished.set(false);
        if !zelf.getters.borrow().is_empty() {
            PyQueue::wake_next(zelf, &zelf.getters, &GET_SITE, &sched());
        }
        Ok(())
    }

    /// `get_nowait()` as the queue's own: QueueEmpty when empty (QueueShutDown once shut
    /// down); then the item comes out (through a subclass's `_get`) and the oldest putter is
    /// woken.
    fn get_now(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if PyQueue::is_empty(zelf, vm)? {
            let class = if zelf.shut_down.get() { queue_shut_down_type(vm) } else { queue_empty_type(vm) };
            return Err(vm.new_exception_empty(class));
        }
        PyQueue::get_unchecked(zelf, vm)
    }

    /// The rest of `get_nowait()` once the queue was found not empty: the item comes out
    /// (through a subclass's `_get`) and the oldest putter is woken.
    fn get_unchecked(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let item = if zelf.plain { PyQueue::pop_item(zelf, vm)? } else { vm.call_method(zelf.as_object(), "_get", ())? };
        if !zelf.putters.borrow().is_empty() {
            PyQueue::wake_next(zelf, &zelf.putters, &PUT_SITE, &sched());
        }
        Ok(item)
    }

    /// CPython's `_format()`: `maxsize=N`, then what is not empty or zero.
    fn format(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        let maxsize = zelf.maxsize.borrow().clone();
        let mut text = format!("maxsize={}", maxsize.repr(vm)?);
        if !zelf.no_items(vm)? {
            let list = vm.ctx.new_list(zelf.item_list(vm)?);
            text.push_str(&format!(" _queue={}", list.as_object().repr(vm)?));
        }
        let getters = zelf.getters.borrow().len();
        if getters > 0 {
            text.push_str(&format!(" _getters[{getters}]"));
        }
        let putters = zelf.putters.borrow().len();
        if putters > 0 {
            text.push_str(&format!(" _putters[{putters}]"));
        }
        if zelf.unfinished.get() != 0 {
            text.push_str(&format!(" tasks={}", zelf.unfinished.get()));
        }
        if zelf.shut_down.get() {
            text.push_str(" shutdown");
        }
        Ok(text)
    }

    /// `self._format()`: a subclass's own, or the queue's.
    fn call_format(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        if zelf.plain {
            PyQueue::format(zelf, vm)
        } else {
            Ok(vm.call_method(zelf.as_object(), "_format", ())?.str(vm)?.to_string())
        }
    }

    /// Parks the running task in `waiters` under `site`.
    fn park(zelf: &Py<Self>, waiters: &RefCell<WaitQueue<PyRef<PyTask>>>, site: &'static WaitSite, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        let cur = current_task(vm)?;
        let key = waiters.borrow_mut().push_back(cur.clone());
        cur.set_wait(Wait::Site(zelf.to_owned().into(), key, site));
        Ok(PyIterReturn::Return(vm.ctx.none()))
    }
}

#[pyclass(with(Constructor, Initializer, Representable), flags(BASETYPE, HAS_DICT, HAS_WEAKREF))]
impl PyQueue {
    /// The number of items allowed in the queue (0 or less: no limit).
    #[pygetset]
    fn maxsize(zelf: &Py<Self>) -> PyObjectRef {
        zelf.maxsize.borrow().clone()
    }

    /// `maxsize` is read-only: CPython's property error.
    #[pygetset(setter)]
    fn set_maxsize(zelf: &Py<Self>, value: PySetterValue, vm: &VirtualMachine) -> PyResult<()> {
        let what = match value {
            PySetterValue::Assign(_) => "setter",
            PySetterValue::Delete => "deleter",
        };
        Err(vm.new_attribute_error(format!("property 'maxsize' of '{}' object has no {what}", zelf.class().name())))
    }

    /// CPython's `_maxsize`: the same, and writable (programs resize a queue so).
    #[pygetset(name = "_maxsize")]
    fn get_maxsize(zelf: &Py<Self>) -> PyObjectRef {
        zelf.maxsize.borrow().clone()
    }

    /// Setting `_maxsize` changes the bound (CPython reads it at every `full()`).
    #[pygetset(name = "_maxsize", setter)]
    fn set_maxsize_attr(zelf: &Py<Self>, value: PyObjectRef, vm: &VirtualMachine) {
        zelf.store_maxsize(value, vm);
    }

    /// CPython's `_unfinished_tasks`: items put and not yet marked done.
    #[pygetset(name = "_unfinished_tasks")]
    fn get_unfinished(zelf: &Py<Self>) -> i64 {
        zelf.unfinished.get()
    }

    /// Setting `_unfinished_tasks` (subclasses that put items their own way do).
    #[pygetset(name = "_unfinished_tasks", setter)]
    fn set_unfinished(zelf: &Py<Self>, value: i64) {
        zelf.unfinished.set(value);
    }

    /// CPython's `_is_shutdown`.
    #[pygetset(name = "_is_shutdown")]
    fn get_is_shutdown(zelf: &Py<Self>) -> bool {
        zelf.shut_down.get()
    }

    /// Setting `_is_shutdown`, read as a truth value.
    #[pygetset(name = "_is_shutdown", setter)]
    fn set_is_shutdown(zelf: &Py<Self>, value: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        zelf.shut_down.set(value.try_to_bool(vm)?);
        Ok(())
    }

    /// CPython's `_queue`: the items as a `collections.deque` (Queue) or a list (LifoQueue,
    /// PriorityQueue, in heap order). From the first read on, the queue keeps its items in that
    /// object, so what the program does to it is what the queue holds.
    #[pygetset(name = "_queue")]
    fn get_queue(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if let Some(obj) = zelf.items_object() {
            return Ok(obj);
        }
        let items = zelf.item_list(vm)?;
        let obj: PyObjectRef = match zelf.kind {
            Kind::Fifo => {
                let deque = vm.import("collections", 0)?.get_attr("deque", vm)?;
                deque.call((vm.ctx.new_list(items),), vm)?
            }
            Kind::Lifo | Kind::Priority => vm.ctx.new_list(items).into(),
        };
        let old = zelf.items.replace(Items::Object(obj.clone()));
        drop(old);
        Ok(obj)
    }

    /// Setting `_queue` (a subclass's `_init` does) makes that object hold the items.
    #[pygetset(name = "_queue", setter)]
    fn set_queue(zelf: &Py<Self>, value: PyObjectRef) {
        let old = zelf.items.replace(Items::Object(value));
        drop(old);
    }

    /// CPython's `_init(maxsize)` hook: makes the queue empty. A subclass overrides it (with
    /// `_put` and `_get`) to keep its items its own way, in `self._queue`.
    #[pymethod]
    fn _init(zelf: &Py<Self>, _maxsize: PyObjectRef) {
        zelf.reset_items();
    }

    /// CPython's `_put(item)` hook: adds the item where the queue's kind says.
    #[pymethod]
    fn _put(zelf: &Py<Self>, item: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        PyQueue::push_item(zelf, item, vm)
    }

    /// CPython's `_get()` hook: takes the item that leaves next.
    #[pymethod]
    fn _get(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        PyQueue::pop_item(zelf, vm)
    }

    /// CPython's `_format()`: what `str()` and `repr()` show after the class name.
    #[pymethod]
    fn _format(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        PyQueue::format(zelf, vm)
    }

    /// `<Queue maxsize=0 _queue=[1, 2] tasks=2>`, as CPython shows it.
    #[pymethod]
    fn __str__(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<{} {}>", zelf.class().name(), PyQueue::call_format(zelf, vm)?))
    }

    /// `Queue[int]`, for type hints.
    #[pyclassmethod]
    fn __class_getitem__(cls: PyTypeRef, args: PyObjectRef, vm: &VirtualMachine) -> PyResult<PyGenericAlias> {
        PyGenericAlias::from_args(cls, args, vm)
    }
}

/// `<Queue at 0x7f... maxsize=0>`, as CPython shows it.
impl Representable for PyQueue {
    fn repr_str(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<{} at {:#x} {}>", zelf.class().name(), zelf.get_id(), PyQueue::call_format(zelf, vm)?))
    }
}

/// What a [`QueueMethod`] runs: the queue, and its arguments after `self`, one per parameter
/// (fewer only when optional ones were left out).
type MethodBody = fn(&Py<PyQueue>, &[PyObjectRef], &VirtualMachine) -> PyResult;

/// Queue's public methods: name, parameters after `self`, how many of those are required,
/// body, docstring. Each is a [`QueueMethod`] in the class.
const METHODS: &[(&str, &[&str], usize, MethodBody, &str)] = &[
    ("qsize", &[], 0, method_qsize, "Number of items in the queue."),
    ("empty", &[], 0, method_empty, "Return True if the queue is empty, False otherwise."),
    ("full", &[], 0, method_full, "Return True if there are maxsize items in the queue (never for a maxsize of 0 or less)."),
    ("put", &["item"], 1, method_put, "Put an item into the queue, waiting while it is full. Raises QueueShutDown after shutdown()."),
    ("get", &[], 0, method_get, "Remove and return an item from the queue, waiting while it is empty. Raises QueueShutDown once the queue is shut down and empty."),
    ("put_nowait", &["item"], 1, method_put_nowait, "Put an item into the queue without blocking; QueueFull if no free slot is available."),
    ("get_nowait", &[], 0, method_get_nowait, "Remove and return an item if one is immediately available, else raise QueueEmpty."),
    ("task_done", &[], 0, method_task_done, "Indicate that an item taken with get() is processed; ValueError if called more times than items were put."),
    ("join", &[], 0, method_join, "Block until every item put has been marked done with task_done()."),
    ("shutdown", &["immediate"], 0, method_shutdown, "Shut the queue down: puts raise QueueShutDown, gets once the queue is empty (at once with immediate=True, which drops the items and counts each as done). Unblocks every waiting put() and get()."),
];

/// `qsize()`: the number of items.
fn method_qsize(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    Ok(vm.ctx.new_int(zelf.len_items(vm)?).into())
}

/// `empty()`: whether there are no items.
fn method_empty(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    Ok(vm.ctx.new_bool(zelf.no_items(vm)?).into())
}

/// `full()`: whether the queue holds `maxsize` items.
fn method_full(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    Ok(vm.ctx.new_bool(PyQueue::full_now(zelf, vm)?).into())
}

/// `put(item)`: the awaitable that puts it.
fn method_put(zelf: &Py<PyQueue>, args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    let item = args[0].clone();
    Ok(PyQueuePut { queue: zelf.to_owned(), item, phase: Cell::new(Phase::Start) }.into_ref(&vm.ctx).into())
}

/// `get()`: the awaitable that takes an item.
fn method_get(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    Ok(PyQueueGet { queue: zelf.to_owned(), phase: Cell::new(Phase::Start) }.into_ref(&vm.ctx).into())
}

/// `put_nowait(item)`.
fn method_put_nowait(zelf: &Py<PyQueue>, args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    PyQueue::put_now(zelf, args[0].clone(), vm)?;
    Ok(vm.ctx.none())
}

/// `get_nowait()`.
fn method_get_nowait(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    PyQueue::get_now(zelf, vm)
}

/// `task_done()`: one unfinished item fewer; the last one sets CPython's `_finished` Event,
/// which wakes the joiners.
fn method_task_done(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    let unfinished = zelf.unfinished.get();
    if unfinished <= 0 {
        return Err(vm.new_value_error("task_done() called too many times"));
    }
    zelf.unfinished.set(unfinished - 1);
    if unfinished == 1 {
        zelf.set_finished();
    }
    Ok(vm.ctx.none())
}

/// `join()`: the awaitable that waits for every item to be marked done.
fn method_join(zelf: &Py<PyQueue>, _args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    Ok(PyQueueJoin { queue: zelf.to_owned(), phase: Cell::new(Phase::Start) }.into_ref(&vm.ctx).into())
}

/// `shutdown(immediate=False)` (CPython 3.13): as CPython's, step by step: the flag; with
/// `immediate`, every item taken out (through a subclass's `_get`) and counted as done, and
/// the `_finished` Event set if nothing is left unfinished; then every parked getter, then
/// every parked putter, woken to look again.
fn method_shutdown(zelf: &Py<PyQueue>, args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
    zelf.shut_down.set(true);
    let immediate = match args.first() {
        Some(value) => value.try_to_bool(vm)?,
        None => false,
    };
    if immediate {
        while !PyQueue::is_empty(zelf, vm)? {
            if zelf.plain {
                PyQueue::pop_item(zelf, vm)?;
            } else {
                vm.call_method(zelf.as_object(), "_get", ())?;
            }
            let unfinished = zelf.unfinished.get();
            if unfinished > 0 {
                zelf.unfinished.set(unfinished - 1);
            }
        }
        if zelf.unfinished.get() == 0 {
            zelf.set_finished();
        }
    }
    let s = sched();
    PyQueue::wake_all(zelf, &zelf.getters, &GET_SITE, &s);
    PyQueue::wake_all(zelf, &zelf.putters, &PUT_SITE, &s);
    Ok(vm.ctx.none())
}

/// A method of Queue, called through the vectorcall slot: `q.put(item)` hands the method the
/// receiver and the argument as the VM collected them, where a `#[pymethod]` has them moved
/// into a `FuncArgs` and bound one by one (callgrind: a loop of `q.put_nowait(i)` went from
/// 2,770 to 2,600 instructions an iteration). Marked METHOD_DESCRIPTOR, so `q.put(...)` makes
/// no bound method. Arguments are bound as CPython binds its Python methods' (by position or
/// by name), with its messages.
#[pyclass(module = false, name = "method_descriptor")]
#[derive(Debug, PyPayload)]
pub(crate) struct QueueMethod {
    /// The method's name.
    name: &'static str,
    /// Its parameters after `self`.
    params: &'static [&'static str],
    /// How many of `params` are required (the rest have defaults).
    required: usize,
    /// What it runs.
    body: MethodBody,
    /// Its docstring.
    doc: &'static str,
}

impl QueueMethod {
    /// The receiver: a Queue (or subclass) instance.
    fn receiver<'a>(&self, obj: &'a PyObject, vm: &VirtualMachine) -> PyResult<&'a Py<PyQueue>> {
        obj.downcast_ref::<PyQueue>().ok_or_else(|| {
            vm.new_type_error(format!(
                "descriptor '{}' for 'Queue' objects doesn't apply to a '{}' object",
                self.name,
                obj.class().name()
            ))
        })
    }

    /// Binds `positional` (the receiver first) and `keywords` as CPython binds a Python
    /// method's arguments, then runs the body.
    fn invoke(&self, positional: &[PyObjectRef], keywords: &[(&str, PyObjectRef)], vm: &VirtualMachine) -> PyResult {
        let total = 1 + self.params.len();
        let name = |i: usize| if i == 0 { "self" } else { self.params[i - 1] };
        if positional.len() > total {
            let takes = if self.required == self.params.len() {
                format!("{total} positional argument{}", if total == 1 { "" } else { "s" })
            } else {
                format!("from {} to {total} positional arguments", 1 + self.required)
            };
            return Err(vm.new_type_error(format!(
                "Queue.{}() takes {takes} but {} were given",
                self.name,
                positional.len()
            )));
        }
        let mut bound: Vec<Option<PyObjectRef>> = positional.iter().cloned().map(Some).collect();
        bound.resize(total, None);
        for (key, value) in keywords {
            let Some(i) = (0..total).find(|&i| name(i) == *key) else {
                return Err(vm.new_type_error(format!("Queue.{}() got an unexpected keyword argument '{key}'", self.name)));
            };
            if bound[i].replace(value.clone()).is_some() {
                return Err(vm.new_type_error(format!("Queue.{}() got multiple values for argument '{key}'", self.name)));
            }
        }
        let missing: Vec<String> = (0..1 + self.required).filter(|&i| bound[i].is_none()).map(|i| format!("'{}'", name(i))).collect();
        if !missing.is_empty() {
            let list = match missing.as_slice() {
                [one] => one.clone(),
                [first, second] => format!("{first} and {second}"),
                [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
                [] => String::new(),
            };
            return Err(vm.new_type_error(format!(
                "Queue.{}() missing {} required positional argument{}: {list}",
                self.name,
                missing.len(),
                if missing.len() == 1 { "" } else { "s" }
            )));
        }
        let args: Vec<PyObjectRef> = bound.into_iter().map_while(|arg| arg).collect();
        let queue = self.receiver(&args[0], vm)?;
        (self.body)(queue, &args[1..], vm)
    }
}

/// The vectorcall slot: `args` holds the positional arguments (the receiver first), then the
/// keyword values.
fn method_vectorcall(
    zelf: &PyObject,
    args: Vec<PyObjectRef>,
    nargs: usize,
    kwnames: Option<&[PyObjectRef]>,
    vm: &VirtualMachine,
) -> PyResult {
    let Some(method) = zelf.downcast_ref::<QueueMethod>() else {
        return Err(vm.new_type_error("a Queue method expected"));
    };
    let nargs = nargs.min(args.len());
    let names = kwnames.unwrap_or_default();
    if names.is_empty() && nargs == 1 + method.params.len() {
        let queue = method.receiver(&args[0], vm)?;
        return (method.body)(queue, &args[1..nargs], vm);
    }
    let keywords = super::fastpath::vector_keywords(names, &args[nargs..], vm)?;
    method.invoke(&args[..nargs], &keywords, vm)
}

#[pyclass(with(Callable, GetDescriptor, Representable), flags(METHOD_DESCRIPTOR))]
impl QueueMethod {
    /// The method's name (`put`).
    #[pygetset]
    fn __name__(zelf: &Py<Self>) -> &'static str {
        zelf.name
    }

    /// `Queue.put`, as CPython names its methods.
    #[pygetset]
    fn __qualname__(zelf: &Py<Self>) -> String {
        format!("Queue.{}", zelf.name)
    }

    /// The method's docstring.
    #[pygetset]
    fn __doc__(zelf: &Py<Self>) -> &'static str {
        zelf.doc
    }
}

impl Callable for QueueMethod {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let keywords = super::fastpath::args_keywords(&args, vm)?;
        zelf.invoke(&args.args, &keywords, vm)
    }
}

/// `q.put` (not called at once) is a bound method; `Queue.put` the method itself.
impl GetDescriptor for QueueMethod {
    fn descr_get(zelf: &PyObject, obj: Option<&PyObject>, _cls: Option<&PyObject>, vm: &VirtualMachine) -> PyResult {
        Ok(match obj {
            Some(obj) if !vm.is_none(obj) => PyBoundMethod::new(obj.to_owned(), zelf.to_owned()).into_ref(&vm.ctx).into(),
            _ => zelf.to_owned(),
        })
    }
}

/// `<method 'put' of 'Queue' objects>`.
impl Representable for QueueMethod {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("<method '{}' of 'Queue' objects>", zelf.name))
    }
}

/// Puts Queue's public methods in the class as [`QueueMethod`]s (once per thread: the class
/// belongs to the thread).
fn install_methods(vm: &VirtualMachine) {
    let method_type = QueueMethod::make_static_type();
    if method_type.slots.vectorcall.load().is_none() {
        method_type.slots.vectorcall.store(Some(method_vectorcall));
    }
    let queue_type = PyQueue::make_static_type();
    for &(name, params, required, body, doc) in METHODS {
        let name_str = vm.ctx.intern_str(name);
        if queue_type.get_direct_attr(name_str).is_some_and(|attr| attr.downcastable::<QueueMethod>()) {
            continue;
        }
        let method = QueueMethod { name, params, required, body, doc }.into_ref(&vm.ctx);
        queue_type.set_attr(name_str, method.into());
    }
}

/// Where an awaitable of `get()`, `put()` or `join()` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not awaited yet.
    Start,
    /// Parked: the next step is a wake-up (getters and putters look again).
    Parked,
    /// Returned or raised: awaiting it again is CPython's error for a coroutine.
    Done,
}

/// CPython's error for awaiting a coroutine a second time.
fn reused(vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_runtime_error("cannot reuse already awaited coroutine")
}

/// What the awaitables do when an exception is thrown in (a cancellation): the scheduler has
/// already taken the task out of the queue, or passed its wake-up on; the exception goes on.
fn thrown_in(phase: &Cell<Phase>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
    phase.set(Phase::Done);
    Err(super::fastpath::thrown(typ, val, tb, vm))
}

/// The awaitable `Queue.get()` returns (CPython's coroutine): gives the next item, parking the
/// task while the queue is empty.
#[pyclass(module = "asyncio", name = "QueueGet")]
#[derive(Debug, PyPayload)]
pub struct PyQueueGet {
    /// The queue.
    queue: PyRef<PyQueue>,
    /// Where it stands.
    phase: Cell<Phase>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyQueueGet {
    /// An exception thrown into the task parked here (a cancellation) goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        thrown_in(&zelf.phase, typ, val, tb, vm)
    }
}

impl SelfIter for PyQueueGet {}

impl IterNext for PyQueueGet {
    /// CPython's `get()`: while the queue is empty, raise QueueShutDown if it is shut down, else
    /// park until a put wakes the task; then `get_nowait()`.
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if zelf.phase.get() == Phase::Done {
            return Err(reused(vm));
        }
        let queue = &zelf.queue;
        let outcome = (|| {
            if PyQueue::is_empty(queue, vm)? {
                if queue.shut_down.get() && (queue.plain || PyQueue::is_empty(queue, vm)?) {
                    return Err(vm.new_exception_empty(queue_shut_down_type(vm)));
                }
                zelf.phase.set(Phase::Parked);
                return PyQueue::park(queue, &queue.getters, &GET_SITE, vm);
            }
            // A plain queue was just found not empty: `get_nowait()` would look again for nothing.
            let item = if queue.plain { PyQueue::get_unchecked(queue, vm)? } else { vm.call_method(queue.as_object(), "get_nowait", ())? };
            Ok(PyIterReturn::StopIteration(Some(item)))
        })();
        if !matches!(outcome, Ok(PyIterReturn::Return(_))) {
            zelf.phase.set(Phase::Done);
        }
        outcome
    }
}

/// The awaitable `Queue.put(item)` returns (CPython's coroutine): puts the item, parking the
/// task while the queue is full.
#[pyclass(module = "asyncio", name = "QueuePut")]
#[derive(Debug, PyPayload)]
pub struct PyQueuePut {
    /// The queue.
    queue: PyRef<PyQueue>,
    /// The item to put.
    item: PyObjectRef,
    /// Where it stands.
    phase: Cell<Phase>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyQueuePut {
    /// An exception thrown into the task parked here (a cancellation) goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        thrown_in(&zelf.phase, typ, val, tb, vm)
    }
}

impl SelfIter for PyQueuePut {}

impl IterNext for PyQueuePut {
    /// CPython's `put()`: while the queue is full, raise QueueShutDown if it is shut down, else
    /// park until a get wakes the task; then `put_nowait(item)`.
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        if zelf.phase.get() == Phase::Done {
            return Err(reused(vm));
        }
        let queue = &zelf.queue;
        let outcome = (|| {
            if PyQueue::is_full(queue, vm)? {
                if queue.shut_down.get() {
                    return Err(vm.new_exception_empty(queue_shut_down_type(vm)));
                }
                zelf.phase.set(Phase::Parked);
                return PyQueue::park(queue, &queue.putters, &PUT_SITE, vm);
            }
            // A plain queue was just found not full: `put_nowait()` need only check the flag.
            if !queue.plain {
                vm.call_method(queue.as_object(), "put_nowait", (zelf.item.clone(),))?;
            } else if queue.shut_down.get() {
                return Err(vm.new_exception_empty(queue_shut_down_type(vm)));
            } else {
                PyQueue::put_unchecked(queue, zelf.item.clone(), vm)?;
            }
            Ok(PyIterReturn::StopIteration(None))
        })();
        if !matches!(outcome, Ok(PyIterReturn::Return(_))) {
            zelf.phase.set(Phase::Done);
        }
        outcome
    }
}

/// The awaitable `Queue.join()` returns (CPython's coroutine): waits until every item put has
/// been marked done.
#[pyclass(module = "asyncio", name = "QueueJoin")]
#[derive(Debug, PyPayload)]
pub struct PyQueueJoin {
    /// The queue.
    queue: PyRef<PyQueue>,
    /// Where it stands.
    phase: Cell<Phase>,
}

#[pyclass(with(IterNext, Iterable))]
impl PyQueueJoin {
    /// An exception thrown into the task parked here (a cancellation) goes on.
    #[pymethod]
    fn throw(zelf: &Py<Self>, typ: PyObjectRef, val: OptionalArg, tb: OptionalArg, vm: &VirtualMachine) -> PyResult {
        thrown_in(&zelf.phase, typ, val, tb, vm)
    }
}

impl SelfIter for PyQueueJoin {}

impl IterNext for PyQueueJoin {
    /// CPython's `join()`: if items are unfinished and the `_finished` Event is not set, park
    /// until it is; woken, return (without looking again, as `Event.wait()` does).
    fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        super::fastpath::AwaitWrapper::release_spare();
        let queue = &zelf.queue;
        match zelf.phase.get() {
            Phase::Start if queue.unfinished.get() > 0 && !queue.finished.get() => {
                let parked = PyQueue::park(queue, &queue.joiners, &JOIN_SITE, vm)?;
                zelf.phase.set(Phase::Parked);
                Ok(parked)
            }
            Phase::Start | Phase::Parked => {
                zelf.phase.set(Phase::Done);
                Ok(PyIterReturn::StopIteration(None))
            }
            Phase::Done => Err(reused(vm)),
        }
    }
}

/// The list a PriorityQueue's `_queue` must be once the program has set it, as for `heapq`.
fn heap_list<'a>(obj: &'a PyObjectRef, vm: &VirtualMachine) -> PyResult<&'a Py<PyList>> {
    obj.downcast_ref::<PyList>().ok_or_else(|| vm.new_type_error("heap argument must be a list"))
}

/// The array a heap lives in: the queue's Rust deque or the program's list. Every access is a
/// short borrow, so that `<`, which runs Python code, runs with none held.
trait HeapArray {
    /// The number of items; None if the array is not there any more (the queue's items moved
    /// to `_queue` during a comparison).
    fn len(&self) -> Option<usize>;
    /// The item at `i`.
    fn get(&self, i: usize) -> Option<PyObjectRef>;
    /// Swaps the items at `i` and `j` (both in range: the length was checked after the last
    /// comparison).
    fn swap(&self, i: usize, j: usize);
    /// Takes the last item.
    fn pop_last(&self) -> Option<PyObjectRef>;
    /// Puts `item` at the root and returns the item that was there.
    fn replace_root(&self, item: PyObjectRef) -> Option<PyObjectRef>;
}

/// A heap in the queue's Rust deque.
struct NativeHeap<'a>(&'a RefCell<Items>);

impl HeapArray for NativeHeap<'_> {
    fn len(&self) -> Option<usize> {
        match &*self.0.borrow() {
            Items::Native(items) => Some(items.len()),
            Items::Object(_) => None,
        }
    }
    fn get(&self, i: usize) -> Option<PyObjectRef> {
        match &*self.0.borrow() {
            Items::Native(items) => items.get(i).cloned(),
            Items::Object(_) => None,
        }
    }
    fn swap(&self, i: usize, j: usize) {
        if let Items::Native(items) = &mut *self.0.borrow_mut()
            && i < items.len()
            && j < items.len()
        {
            items.swap(i, j);
        }
    }
    fn pop_last(&self) -> Option<PyObjectRef> {
        match &mut *self.0.borrow_mut() {
            Items::Native(items) => items.pop_back(),
            Items::Object(_) => None,
        }
    }
    fn replace_root(&self, item: PyObjectRef) -> Option<PyObjectRef> {
        match &mut *self.0.borrow_mut() {
            Items::Native(items) => items.front_mut().map(|root| std::mem::replace(root, item)),
            Items::Object(_) => None,
        }
    }
}

/// A heap in a Python list (`_queue`).
struct ListHeap<'a>(&'a Py<PyList>);

impl HeapArray for ListHeap<'_> {
    fn len(&self) -> Option<usize> {
        Some(self.0.borrow_vec().len())
    }
    fn get(&self, i: usize) -> Option<PyObjectRef> {
        self.0.borrow_vec().get(i).cloned()
    }
    fn swap(&self, i: usize, j: usize) {
        let mut items = self.0.borrow_vec_mut();
        if i < items.len() && j < items.len() {
            items.swap(i, j);
        }
    }
    fn pop_last(&self) -> Option<PyObjectRef> {
        self.0.borrow_vec_mut().pop()
    }
    fn replace_root(&self, item: PyObjectRef) -> Option<PyObjectRef> {
        self.0.borrow_vec_mut().first_mut().map(|root| std::mem::replace(root, item))
    }
}

/// CPython's heapq error when a comparison changed the heap's size under it.
fn heap_changed(vm: &VirtualMachine) -> PyBaseExceptionRef {
    vm.new_runtime_error("list changed size during iteration")
}

/// heapq's `_siftdown(heap, start, pos)`: moves the item at `pos` towards `start` while it is
/// `<` its parent.
fn sift_down(heap: &impl HeapArray, start: usize, mut pos: usize, vm: &VirtualMachine) -> PyResult<()> {
    let size = heap.len().ok_or_else(|| heap_changed(vm))?;
    if pos >= size {
        return Err(vm.new_index_error("index out of range"));
    }
    while pos > start {
        let parent_pos = (pos - 1) >> 1;
        let (Some(item), Some(parent)) = (heap.get(pos), heap.get(parent_pos)) else {
            return Err(heap_changed(vm));
        };
        let less = item.rich_compare_bool(&parent, PyComparisonOp::Lt, vm)?;
        drop((item, parent));
        if heap.len() != Some(size) {
            return Err(heap_changed(vm));
        }
        if !less {
            break;
        }
        heap.swap(parent_pos, pos);
        pos = parent_pos;
    }
    Ok(())
}

/// heapq's `_siftup(heap, pos)`: walks the item at `pos` down to a leaf, always along the
/// smaller child (the right one unless the left is `<` it), then sifts it back up.
fn sift_up(heap: &impl HeapArray, mut pos: usize, vm: &VirtualMachine) -> PyResult<()> {
    let end = heap.len().ok_or_else(|| heap_changed(vm))?;
    let start = pos;
    let limit = end >> 1;
    while pos < limit {
        let mut child = 2 * pos + 1;
        if child + 1 < end {
            let (Some(left), Some(right)) = (heap.get(child), heap.get(child + 1)) else {
                return Err(heap_changed(vm));
            };
            let left_smaller = left.rich_compare_bool(&right, PyComparisonOp::Lt, vm)?;
            drop((left, right));
            if !left_smaller {
                child += 1;
            }
            if heap.len() != Some(end) {
                return Err(heap_changed(vm));
            }
        }
        heap.swap(child, pos);
        pos = child;
    }
    sift_down(heap, start, pos, vm)
}

/// heapq's `heappop(heap)`: the root; the last item takes its place and is sifted down.
fn heap_pop(heap: &impl HeapArray, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let last = heap.pop_last().ok_or_else(|| vm.new_index_error("index out of range"))?;
    let Some(root) = heap.replace_root(last.clone()) else {
        return Ok(last);
    };
    drop(last);
    sift_up(heap, 0, vm)?;
    Ok(root)
}
