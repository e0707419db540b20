# Cancelling tasks parked in Queue.get() and Queue.put(): a parked task leaves no trace; a
# task that was woken and is cancelled before it runs passes the wake-up to the next waiter
# when the queue still has an item (a free slot), as CPython's queues do.
import asyncio


async def getter(name, q, log):
    try:
        item = await q.get()
        log.append(f"{name} got {item}")
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise


async def putter(name, q, item, log):
    try:
        await q.put(item)
        log.append(f"{name} put {item}")
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise


async def finish(tasks, log):
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass
    for line in log:
        print(" ", line)
    log.clear()


async def main():
    log = []
    # A parked getter cancelled: the next put goes to the getter behind it.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(3)]
    await asyncio.sleep(0)
    print("parked:", str(q))
    g[0].cancel()
    print("after cancel:", g[0].cancelled())
    await asyncio.sleep(0)
    print("cancelled one ran:", str(q))
    q.put_nowait("a")
    await asyncio.sleep(0)
    print("after put:", str(q))
    g[2].cancel()
    q.put_nowait("b")
    await finish(g, log)
    print("left:", str(q))

    # A woken getter cancelled before it runs: its wake-up goes to the next getter.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(3)]
    await asyncio.sleep(0)
    q.put_nowait("x")
    g[0].cancel()
    print("woken and cancelled:", str(q))
    await asyncio.sleep(0)
    print("after a step:", str(q))
    await asyncio.sleep(0)
    print("after two steps:", str(q))
    q.put_nowait("y")
    await finish(g, log)

    # The same when somebody took the item meanwhile: nothing to pass on.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(2)]
    await asyncio.sleep(0)
    q.put_nowait("x")
    g[0].cancel()
    print("taken:", q.get_nowait())
    await asyncio.sleep(0)
    print("after a step:", str(q))
    q.put_nowait("z")
    await finish(g, log)

    # Two items, two woken getters, the first cancelled: the third getter gets its item.
    q = asyncio.Queue()
    g = [asyncio.create_task(getter(f"G{i}", q, log)) for i in range(3)]
    await asyncio.sleep(0)
    q.put_nowait(1)
    q.put_nowait(2)
    g[0].cancel()
    await finish(g, log)

    # Putters on a full queue.
    q = asyncio.Queue(1)
    q.put_nowait("full")
    p = [asyncio.create_task(putter(f"P{i}", q, i, log)) for i in range(3)]
    await asyncio.sleep(0)
    print("parked:", str(q))
    p[1].cancel()
    await asyncio.sleep(0)
    print("cancelled one ran:", str(q))
    print(q.get_nowait())
    p[0].cancel()
    print("woken and cancelled:", str(q))
    await asyncio.sleep(0)
    print("after a step:", str(q))
    await asyncio.sleep(0)
    print("after two steps:", str(q))
    print(q.get_nowait())
    await finish(p, log)
    print("left:", str(q))

    # A woken putter cancelled while another put_nowait took the free slot: nothing passed on.
    q = asyncio.Queue(1)
    q.put_nowait("full")
    p = [asyncio.create_task(putter(f"P{i}", q, i, log)) for i in range(2)]
    await asyncio.sleep(0)
    q.get_nowait()
    p[0].cancel()
    q.put_nowait("mine")
    await asyncio.sleep(0)
    print("after a step:", str(q))
    q.get_nowait()
    await finish(p, log)
    print("left:", str(q))

    # Cancelling a getter that has its item already (it ran): nothing happens to the queue.
    q = asyncio.Queue()
    q.put_nowait(1)
    t = asyncio.create_task(getter("G", q, log))
    await asyncio.sleep(0)
    print(t.cancel(), str(q))
    await finish([t], log)
    print("done")


asyncio.run(main())
