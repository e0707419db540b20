# CPython's asyncio submodules (exceptions, locks, queues, futures, tasks, events, timeouts,
# taskgroups, runners) give the same objects as the package.
import asyncio
import asyncio.events
import asyncio.exceptions
import asyncio.futures
import asyncio.locks
import asyncio.queues
import asyncio.runners
import asyncio.taskgroups
import asyncio.tasks
import asyncio.timeouts

checks = {
    "exceptions": ("CancelledError", "InvalidStateError", "TimeoutError", "BrokenBarrierError", "IncompleteReadError", "LimitOverrunError"),
    "locks": ("Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore", "Barrier"),
    "queues": ("Queue", "LifoQueue", "PriorityQueue", "QueueEmpty", "QueueFull"),
    "futures": ("Future", "isfuture"),
    "tasks": ("Task", "create_task", "current_task", "all_tasks", "gather", "wait", "wait_for", "shield", "sleep", "as_completed", "ensure_future"),
    "events": ("get_event_loop", "get_running_loop", "new_event_loop", "Handle", "TimerHandle"),
    "timeouts": ("Timeout", "timeout", "timeout_at"),
    "taskgroups": ("TaskGroup",),
    "runners": ("Runner", "run"),
}
for module, names in checks.items():
    sub = getattr(asyncio, module)
    print(module, all(getattr(sub, n) is getattr(asyncio, n) for n in names))
from asyncio.locks import Semaphore
from asyncio.queues import Queue

print(Semaphore.__module__, Queue.__module__)
print(asyncio.TimeoutError is TimeoutError, issubclass(asyncio.CancelledError, BaseException))
print("done")
