# PriorityQueue: items leave smallest first by `<`, in heapq's order for equal priorities, and
# `__lt__` is called on the same pairs, in the same order, as CPython's heapq calls it.
import asyncio


class Job:
    calls = []

    def __init__(self, prio, name):
        self.prio = prio
        self.name = name

    def __lt__(self, other):
        Job.calls.append(f"{self.name}<{other.name}")
        return self.prio < other.prio

    def __repr__(self):
        return f"{self.name}:{self.prio}"


async def main():
    q = asyncio.PriorityQueue()
    for prio, name in [(3, "a"), (1, "b"), (2, "c"), (1, "d"), (3, "e"), (2, "f"), (1, "g"), (0, "h"), (2, "i")]:
        q.put_nowait(Job(prio, name))
    print(str(q))
    print(" ".join(Job.calls))
    Job.calls.clear()
    out = []
    while not q.empty():
        out.append(repr(q.get_nowait()))
        out.append("[" + " ".join(Job.calls) + "]")
        Job.calls.clear()
    print(" ".join(out))

    # Tuples with equal priorities fall back to the next element.
    q = asyncio.PriorityQueue()
    for t in [(2, "b"), (1, "z"), (2, "a"), (1, "y"), (0, "x")]:
        await q.put(t)
    print([await q.get() for _ in range(5)])

    # Equal items: heapq's order, not arrival order.
    q = asyncio.PriorityQueue()
    for i, prio in enumerate([5, 5, 5, 5, 5, 5, 5]):
        q.put_nowait(Job(prio, f"j{i}"))
    Job.calls.clear()
    print([q.get_nowait().name for _ in range(7)])

    # A comparison that raises: the error reaches the caller; the item stays where the heap
    # put it, as in CPython.
    q = asyncio.PriorityQueue()
    q.put_nowait(1)
    try:
        q.put_nowait("x")
    except TypeError as e:
        print("TypeError", e)
    print(str(q), q.qsize())

    # Waiting getters get the smallest item present when they run.
    q = asyncio.PriorityQueue()
    got = []

    async def getter():
        got.append(await q.get())

    tasks = [asyncio.create_task(getter()) for _ in range(3)]
    await asyncio.sleep(0)
    for v in (7, 3, 5):
        q.put_nowait(v)
    for t in tasks:
        await t
    print(got)

    # LifoQueue: last in, first out, with waiters.
    q = asyncio.LifoQueue(2)
    await q.put(1)
    await q.put(2)
    t = asyncio.create_task(q.put(3))
    await asyncio.sleep(0)
    print(str(q))
    print(await q.get(), str(q))
    await t
    print([await q.get() for _ in range(2)])
    print("done")


asyncio.run(main())
