# CPython's asyncio functions and classes that MicroPython's asyncio has no name for, written
# over microloop's native primitives (Future, Task callbacks, the loop's call_soon/call_at).
# The native module loads this file the first time a program asks it for a name it lacks
# (`asyncio.wait`, `from asyncio import TaskGroup`), so MicroPython programs never pay for it.
#
# Each follows CPython's documented behaviour and messages; the order in which callbacks and
# tasks run is CPython's, because the primitives underneath keep CPython's order.

from asyncio import (
    CancelledError,
    Future,
    Task,
    create_task,
    current_task,
    ensure_future,
    get_event_loop,
    get_running_loop,
    isfuture,
)

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"

__all__ = (
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "Runner",
    "TaskGroup",
    "Timeout",
    "as_completed",
    "iscoroutine",
    "iscoroutinefunction",
    "shield",
    "timeout",
    "timeout_at",
    "to_thread",
    "wait",
)


def iscoroutine(obj):
    """Whether `obj` is a coroutine object (a generator too: MicroPython's coroutines are)."""
    t = type(obj)
    return t is _CoroutineType or t is _GeneratorType or (
        hasattr(t, "send") and hasattr(t, "throw") and hasattr(t, "close") and hasattr(t, "__await__")
    )


def iscoroutinefunction(func):
    """Whether calling `func` makes a coroutine (an `async def` function)."""
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    return code is not None and bool(code.co_flags & 0x180)


async def _probe():
    pass


def _gen():
    yield


_c = _probe()
_CoroutineType = type(_c)
_c.close()
_GeneratorType = type(_gen())
del _c


def _collection_of_futures(fs, what):
    # A single future or coroutine where a collection was wanted is CPython's TypeError.
    if isfuture(fs) or iscoroutine(fs):
        raise TypeError("expect %s of futures, not %s" % (what, type(fs).__name__))


async def wait(fs, *, timeout=None, return_when=ALL_COMPLETED):
    """Waits until the tasks/futures in `fs` complete as `return_when` says, or `timeout`
    seconds pass; returns the sets (done, pending). Cancels nothing."""
    _collection_of_futures(fs, "a list")
    if not fs:
        raise ValueError("Set of Tasks/Futures is empty.")
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError("Invalid return_when value: %s" % (return_when,))
    fs = set(fs)
    if any(iscoroutine(f) for f in fs):
        raise TypeError("Passing coroutines is forbidden, use tasks explicitly.")
    loop = get_running_loop()
    woken = loop.create_future()
    left = [len(fs)]

    def finished(f):
        left[0] -= 1
        if (
            left[0] <= 0
            or return_when == FIRST_COMPLETED
            or (return_when == FIRST_EXCEPTION and not f.cancelled() and f.exception() is not None)
        ):
            if not woken.done():
                woken.set_result(None)

    def expire():
        if not woken.done():
            woken.set_result(None)

    timer = loop.call_later(timeout, expire) if timeout is not None else None
    for f in fs:
        f.add_done_callback(finished)
    try:
        await woken
    finally:
        if timer is not None:
            timer.cancel()
        for f in fs:
            f.remove_done_callback(finished)
    done = set()
    pending = set()
    for f in fs:
        (done if f.done() else pending).add(f)
    return done, pending


class _AsCompleted:
    # The iterator `as_completed` returns: plain iteration gives one awaitable per input,
    # whose await gives the next outcome in completion order; `async for` gives the inputs
    # themselves, each when it completes (CPython 3.13).

    def __init__(self, fs, timeout):
        loop = get_event_loop()
        self._todo = {}
        for f in fs:
            f = ensure_future(f)
            self._todo[f] = None
        self._left = len(self._todo)
        self._finished = []
        self._wakers = []
        for f in self._todo:
            f.add_done_callback(self._on_done)
        self._timer = None
        if self._todo and timeout is not None:
            self._timer = loop.call_later(timeout, self._on_timeout)

    def _push(self, item):
        self._finished.append(item)
        if self._wakers:
            waker = self._wakers.pop(0)
            if not waker.done():
                waker.set_result(None)

    def _on_done(self, f):
        if f not in self._todo:
            return
        del self._todo[f]
        self._push(f)
        if not self._todo and self._timer is not None:
            self._timer.cancel()

    def _on_timeout(self):
        for f in self._todo:
            f.remove_done_callback(self._on_done)
            self._push(None)
        self._todo.clear()

    async def _next_done(self):
        while not self._finished:
            waker = get_running_loop().create_future()
            self._wakers.append(waker)
            try:
                await waker
            except BaseException:
                if waker in self._wakers:
                    self._wakers.remove(waker)
                raise
        f = self._finished.pop(0)
        if f is None:
            raise TimeoutError
        return f

    async def _next_result(self):
        f = await self._next_done()
        return f.result()

    def __iter__(self):
        return self

    def __next__(self):
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        return self._next_result()

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._left <= 0:
            raise StopAsyncIteration
        self._left -= 1
        return await self._next_done()


def as_completed(fs, *, timeout=None):
    """The awaitables in `fs` in the order they complete: iterate it for awaitables giving
    each outcome in turn, or `async for` over it for the completed tasks themselves. After
    `timeout` seconds the rest raise TimeoutError."""
    _collection_of_futures(fs, "an iterable")
    return _AsCompleted(fs, timeout)


def shield(aw):
    """An awaitable for `aw` that does not pass its own cancellation on to `aw`: cancelling
    the task that awaits it cancels the wait, while `aw` goes on."""
    inner = ensure_future(aw)
    if inner.done():
        return inner
    outer = get_running_loop().create_future()

    def inner_done(inner):
        if outer.cancelled():
            if not inner.cancelled():
                inner.exception()  # seen, so not reported as never retrieved
            return
        if inner.cancelled():
            outer.cancel()
            return
        exc = inner.exception()
        if exc is None:
            outer.set_result(inner.result())
        else:
            outer.set_exception(exc)

    def outer_done(outer):
        if not inner.done():
            inner.remove_done_callback(inner_done)

    inner.add_done_callback(inner_done)
    outer.add_done_callback(outer_done)
    return outer


_CREATED = "created"
_ACTIVE = "active"
_EXPIRING = "expiring"
_EXPIRED = "expired"
_FINISHED = "finished"


class Timeout:
    """`async with asyncio.timeout(delay)`: cancels the block's task at the deadline and turns
    that cancellation into TimeoutError at the end of the block."""

    def __init__(self, when):
        self._state = _CREATED
        self._when = when
        self._timer = None
        self._task = None
        self._cancelling = 0

    def when(self):
        """The deadline on the loop's clock, or None for none."""
        return self._when

    def reschedule(self, when):
        """Moves the deadline (None: no deadline)."""
        if self._state is not _ACTIVE:
            if self._state is _CREATED:
                raise RuntimeError("Timeout has not been entered")
            raise RuntimeError("Cannot change state of %s Timeout" % self._state)
        self._when = when
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if when is not None:
            loop = get_running_loop()
            if when <= loop.time():
                self._timer = loop.call_soon(self._expire)
            else:
                self._timer = loop.call_at(when, self._expire)

    def expired(self):
        """Whether the deadline passed while the block ran."""
        return self._state in (_EXPIRING, _EXPIRED)

    def __repr__(self):
        when = ""
        if self._state is _ACTIVE:
            when = " when=%s" % (round(self._when, 3) if self._when is not None else None)
        return "<Timeout [%s]%s>" % (self._state, when)

    async def __aenter__(self):
        if self._state is not _CREATED:
            raise RuntimeError("Timeout has already been entered")
        task = current_task()
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._state = _ACTIVE
        self.reschedule(self._when)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._state is _EXPIRING:
            self._state = _EXPIRED
            if self._task.uncancel() <= self._cancelling and exc_type is not None and issubclass(exc_type, CancelledError):
                raise TimeoutError from exc
        elif self._state is _ACTIVE:
            self._state = _FINISHED
        return None

    def _expire(self):
        self._task.cancel()
        self._state = _EXPIRING
        self._timer = None


def timeout(delay):
    """A Timeout whose deadline is `delay` seconds from now (None: none)."""
    loop = get_running_loop()
    return Timeout(loop.time() + delay if delay is not None else None)


def timeout_at(when):
    """A Timeout whose deadline is `when` on the loop's clock (`loop.time()`)."""
    return Timeout(when)


class TaskGroup:
    """`async with asyncio.TaskGroup() as tg`: the block ends when every task made with
    `tg.create_task` has; the first task to fail cancels the others and the block, and the
    failures are raised together in an ExceptionGroup."""

    def __init__(self):
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._parent = None
        self._parent_cancel_requested = False
        self._tasks = {}
        self._errors = []
        self._base_error = None
        self._all_done = None

    def __repr__(self):
        info = []
        if self._tasks:
            info.append("tasks=%d" % len(self._tasks))
        if self._errors:
            info.append("errors=%d" % len(self._errors))
        if self._aborting:
            info.append("cancelling")
        elif self._entered:
            info.append("entered")
        return "<TaskGroup%s>" % ("".join(" " + i for i in info))

    async def __aenter__(self):
        if self._entered:
            raise RuntimeError("TaskGroup %r has already been entered" % (self,))
        self._entered = True
        self._parent = current_task()
        return self

    async def __aexit__(self, exc_type, exc, tb):
        self._exiting = True
        if exc is not None and _is_base_error(exc) and self._base_error is None:
            self._base_error = exc
        cancellation = exc if exc_type is not None and issubclass(exc_type, CancelledError) else None
        if exc_type is not None and not self._aborting:
            self._abort()
        while self._tasks:
            self._all_done = get_running_loop().create_future()
            try:
                await self._all_done
            except CancelledError as e:
                if not self._aborting:
                    cancellation = e
                    self._abort()
            self._all_done = None
        if self._parent_cancel_requested and self._parent.uncancel() == 0:
            # The cancellation was the group's own doing (a task failed, maybe while this
            # waited): it is not the caller's.
            cancellation = None
        if self._base_error is not None:
            raise self._base_error
        if cancellation is not None and not self._errors:
            raise cancellation
        if exc_type is not None and not issubclass(exc_type, CancelledError):
            self._errors.append(exc)
        if self._errors:
            errors = self._errors
            self._errors = None
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors) from None

    def create_task(self, coro, *, name=None, context=None):
        """Starts `coro` as a task of the group and returns it."""
        if not self._entered:
            raise RuntimeError("TaskGroup %r has not been entered" % (self,))
        if self._exiting and not self._tasks:
            raise RuntimeError("TaskGroup %r is finished" % (self,))
        if self._aborting:
            raise RuntimeError("TaskGroup %r is shutting down" % (self,))
        task = create_task(coro, name=name)
        self._tasks[task] = None
        task.add_done_callback(self._on_task_done)
        return task

    def _abort(self):
        self._aborting = True
        for t in list(self._tasks):
            if not t.done():
                t.cancel()

    def _on_task_done(self, task):
        self._tasks.pop(task, None)
        if self._all_done is not None and not self._tasks and not self._all_done.done():
            self._all_done.set_result(True)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self._errors.append(exc)
        if _is_base_error(exc) and self._base_error is None:
            self._base_error = exc
        if self._parent.done():
            get_running_loop().call_exception_handler(
                {
                    "message": "Task %r has errored out but its parent task %r is already completed" % (task, self._parent),
                    "exception": exc,
                    "task": task,
                }
            )
            return
        if not self._aborting and not self._parent_cancel_requested:
            self._abort()
            self._parent_cancel_requested = True
            self._parent.cancel()


def _is_base_error(exc):
    # SystemExit and KeyboardInterrupt end the group at once, outside any ExceptionGroup.
    return isinstance(exc, (SystemExit, KeyboardInterrupt))


class Runner:
    """`with asyncio.Runner() as runner: runner.run(main())`: runs several top-level
    coroutines on one loop, closed at the end of the block."""

    def __init__(self, *, debug=None, loop_factory=None):
        self._state = _CREATED
        self._loop = None
        self._loop_factory = loop_factory

    def __enter__(self):
        self._lazy_init()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def close(self):
        """Cancels the tasks still pending, lets them finish, and closes the loop."""
        if self._state is not _ACTIVE:
            return
        try:
            loop = self._loop
            _cancel_pending(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            self._loop.close()
            self._state = _FINISHED

    def get_loop(self):
        """The loop, made on first use."""
        self._lazy_init()
        return self._loop

    def run(self, coro, *, context=None):
        """Runs `coro` to its end on the loop and returns its value."""
        if not iscoroutine(coro):
            raise ValueError("a coroutine was expected, got %r" % (coro,))
        try:
            get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("Runner.run() cannot be called from a running event loop")
        self._lazy_init()
        return self._loop.run_until_complete(self._loop.create_task(coro))

    def _lazy_init(self):
        if self._state is _FINISHED:
            raise RuntimeError("Runner is closed")
        if self._state is _ACTIVE:
            return
        if self._loop_factory is None:
            import asyncio

            self._loop = asyncio.new_event_loop()
        else:
            self._loop = self._loop_factory()
        self._state = _ACTIVE


def _cancel_pending(loop):
    # What is still pending when the Runner closes is cancelled and allowed to finish.
    import asyncio

    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _run_in_thread(func, args, kwargs, context=None):
    # func(*args, **kwargs) in a thread of its own (inside `context`, a contextvars.Context,
    # when given); its value or exception goes to the Future returned, through the loop
    # (call_soon_threadsafe), as CPython's executors hand it over.
    import _thread

    loop = get_event_loop()
    fut = loop.create_future()

    def settle(ok, outcome):
        if fut.done():
            # Cancelled while the thread ran: CPython drops the outcome too.
            return
        if ok:
            fut.set_result(outcome)
        else:
            fut.set_exception(outcome)

    def body():
        try:
            if context is None:
                outcome = func(*args, **kwargs)
            else:
                outcome = context.run(func, *args, **kwargs)
            ok = True
        except BaseException as e:
            outcome = e
            ok = False
        loop.call_soon_threadsafe(settle, ok, outcome)

    _thread.start_new_thread(body, ())
    return fut


async def to_thread(func, /, *args, **kwargs):
    # As CPython's: the function sees the calling task's context variables.
    import contextvars

    return await _run_in_thread(func, args, kwargs, contextvars.copy_context())
