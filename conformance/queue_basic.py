# asyncio.Queue, LifoQueue and PriorityQueue without waiting: the *_nowait methods, sizes,
# QueueEmpty and QueueFull, task_done, str(), maxsize, and the constructor's argument errors.
import asyncio


def show(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e.args)


for cls in (asyncio.Queue, asyncio.LifoQueue, asyncio.PriorityQueue):
    q = cls(3)
    print(cls.__name__, issubclass(cls, asyncio.Queue), q.maxsize, q.qsize(), q.empty(), q.full())
    for item in (5, 1, 4):
        q.put_nowait(item)
    print(str(q))
    print(q.qsize(), q.empty(), q.full())
    show("put_nowait on full:", lambda: q.put_nowait(9))
    print([q.get_nowait() for _ in range(3)])
    show("get_nowait on empty:", q.get_nowait)
    print(str(q))
    for _ in range(3):
        q.task_done()
    show("task_done again:", q.task_done)
    print(str(q))

print(issubclass(asyncio.QueueEmpty, Exception), issubclass(asyncio.QueueFull, Exception))
print(issubclass(asyncio.QueueEmpty, asyncio.QueueFull), asyncio.QueueEmpty.__name__, asyncio.QueueFull.__name__)
print(asyncio.QueueEmpty.__module__, asyncio.Queue.__module__, asyncio.PriorityQueue.__module__)

# maxsize 0 or less: never full.
for size in (0, -1):
    q = asyncio.Queue(size)
    for i in range(100):
        q.put_nowait(i)
    print("maxsize", size, q.full(), q.qsize())

# maxsize is kept as given and compared as CPython compares it.
print(asyncio.Queue(maxsize=2.5).maxsize, asyncio.Queue(True).maxsize)
q = asyncio.Queue(1.5)
q.put_nowait("a")
print(q.full(), str(q))
q.put_nowait("b")
print(q.full())
show("maxsize None full():", asyncio.Queue(None).full)
show("maxsize None put_nowait:", lambda: asyncio.Queue(None).put_nowait(1))
q = asyncio.Queue()
show("set maxsize:", lambda: setattr(q, "maxsize", 3))
show("del maxsize:", lambda: delattr(q, "maxsize"))

# The constructor's arguments.
show("two positional:", lambda: asyncio.Queue(1, 2))
show("loop keyword:", lambda: asyncio.Queue(loop=None))
show("twice:", lambda: asyncio.Queue(1, maxsize=2))
print(asyncio.Queue(maxsize=4).maxsize)

# task_done without a put.
show("task_done on new:", asyncio.Queue().task_done)

# Items of any kind, None included.
q = asyncio.Queue()
for item in (None, "s", (1, 2), [3]):
    q.put_nowait(item)
print(str(q), q.qsize())
print([q.get_nowait() for _ in range(4)])

# A queue is a generic class for type hints.
print(asyncio.Queue[int].__origin__ is asyncio.Queue, asyncio.PriorityQueue[str].__args__)

# The methods' arguments, by position or by name, and CPython's errors.
q = asyncio.Queue()
show("put_nowait(item=):", lambda: q.put_nowait(item="kw"))
show("put_nowait():", lambda: q.put_nowait())
show("put_nowait(1, 2):", lambda: q.put_nowait(1, 2))
show("put_nowait(x=1):", lambda: q.put_nowait(x=1))
show("put_nowait(1, item=2):", lambda: q.put_nowait(1, item=2))
show("get_nowait(1):", lambda: q.get_nowait(1))
show("qsize(1, 2):", lambda: q.qsize(1, 2))
show("put():", lambda: q.put())
show("get(x=1):", lambda: q.get(x=1))
show("unbound put_nowait:", lambda: asyncio.Queue.put_nowait(q, "unbound"))
show("unbound qsize:", lambda: asyncio.Queue.qsize(q))
bound = q.put_nowait
bound("bound")
show("bound get_nowait:", q.get_nowait)
print(str(q), asyncio.Queue.qsize(q), q.qsize.__name__, asyncio.Queue.put.__name__)
print([q.get_nowait() for _ in range(q.qsize())])

# Attributes on an instance.
q.tag = "mine"
print(q.tag)
print("done")
