# Queue.shutdown() (CPython 3.13): puts raise QueueShutDown; gets drain what is left, then
# raise; shutdown(immediate=True) drops the items, counts each as done (which ends join()) and
# makes gets raise at once. Every parked getter and putter is woken to see that.
import asyncio


async def getter(name, q, log):
    try:
        while True:
            item = await q.get()
            log.append(f"{name} got {item}")
            q.task_done()
    except asyncio.QueueShutDown:
        log.append(f"{name} QueueShutDown")


async def putter(name, q, item, log):
    try:
        await q.put(item)
        log.append(f"{name} put {item}")
    except asyncio.QueueShutDown:
        log.append(f"{name} QueueShutDown")


def show(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e.args)


async def finish(tasks, log):
    for t in tasks:
        await t
    for line in log:
        print(" ", line)
    log.clear()


async def main():
    print(issubclass(asyncio.QueueShutDown, Exception), asyncio.QueueShutDown.__module__)
    log = []
    # Shut down with items left: gets drain them, then raise; puts raise at once.
    q = asyncio.Queue()
    for i in range(3):
        q.put_nowait(i)
    q.shutdown()
    print(str(q))
    show("put_nowait:", lambda: q.put_nowait(9))
    try:
        await q.put(9)
    except asyncio.QueueShutDown:
        print("put: QueueShutDown")
    print(q.get_nowait(), await q.get(), q.get_nowait())
    show("get_nowait:", q.get_nowait)
    try:
        await q.get()
    except asyncio.QueueShutDown:
        print("get: QueueShutDown")
    print(str(q))

    # Parked getters are woken and raise.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(3)]
    await asyncio.sleep(0)
    q.put_nowait("a")
    print(str(q))
    q.shutdown()
    print(str(q))
    await finish(g, log)

    # Parked putters are woken and raise; gets still drain the queue.
    q = asyncio.Queue(1)
    q.put_nowait("full")
    p = [asyncio.create_task(putter(f"P{i}", q, i, log)) for i in range(2)]
    await asyncio.sleep(0)
    print(str(q))
    q.shutdown()
    await finish(p, log)
    print(q.get_nowait(), str(q))

    # immediate: items dropped and counted as done, join ends, getters raise.
    q = asyncio.Queue()
    for i in range(3):
        q.put_nowait(i)
    q.get_nowait()
    q.task_done()

    async def joiner():
        await q.join()
        log.append("joined")

    j = asyncio.create_task(joiner())
    await asyncio.sleep(0)
    print(str(q))
    q.shutdown(immediate=True)
    print(str(q), q._unfinished_tasks)
    show("get_nowait:", q.get_nowait)
    await finish([j], log)
    show("task_done:", q.task_done)
    show("task_done:", q.task_done)

    # A woken getter cancelled before it runs after shutdown.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(2)]
    await asyncio.sleep(0)
    q.shutdown()
    g[0].cancel()
    try:
        await g[0]
    except asyncio.CancelledError:
        log.append("G0 cancelled")
    await finish(g[1:], log)

    # shutdown twice, and on LifoQueue and PriorityQueue.
    for cls in (asyncio.LifoQueue, asyncio.PriorityQueue):
        q = cls()
        for i in (2, 3, 1):
            q.put_nowait(i)
        q.shutdown()
        q.shutdown()
        print(cls.__name__, [q.get_nowait() for _ in range(3)], str(q))
        show("put:", lambda: q.put_nowait(0))
    show("shutdown(1, 2):", lambda: q.shutdown(1, 2))
    show("shutdown(x=1):", lambda: q.shutdown(x=1))
    print("done")


asyncio.run(main())
