# Several producers and consumers through bounded and unbounded queues: the order in which
# parked getters and putters are woken and run, step by step.
import asyncio


async def producer(name, q, items, log):
    for item in items:
        log.append(f"{name} put {item} (size {q.qsize()})")
        await q.put(item)
        log.append(f"{name} put {item} done")
    log.append(f"{name} finished")


async def consumer(name, q, count, log):
    for _ in range(count):
        item = await q.get()
        log.append(f"{name} got {item} (size {q.qsize()})")
        q.task_done()
    log.append(f"{name} finished")


async def run(maxsize, producers, consumers):
    q = asyncio.Queue(maxsize)
    log = []
    tasks = []
    # Consumers first: they park on the empty queue.
    for name, count in consumers:
        tasks.append(asyncio.create_task(consumer(name, q, count, log)))
    for name, items in producers:
        tasks.append(asyncio.create_task(producer(name, q, items, log)))
    for t in tasks:
        await t
    print(f"maxsize={maxsize}")
    for line in log:
        print(" ", line)
    print(" ", str(q))


async def main():
    await run(0, [("P1", [1, 2, 3]), ("P2", [10, 20])], [("C1", 2), ("C2", 3)])
    await run(1, [("P1", [1, 2, 3]), ("P2", [10, 20])], [("C1", 2), ("C2", 3)])
    await run(2, [("P1", [1, 2, 3, 4]), ("P2", [10, 20, 30]), ("P3", [100])], [("C1", 4), ("C2", 4)])
    # Producers first: they fill the queue and park before any consumer runs.
    q = asyncio.Queue(2)
    log = []
    ps = [asyncio.create_task(producer(n, q, items, log)) for n, items in (("P1", "abc"), ("P2", "xyz"))]
    await asyncio.sleep(0)
    print("after one step:", str(q))
    cs = [asyncio.create_task(consumer(n, q, 3, log)) for n in ("C1", "C2")]
    for t in ps + cs:
        await t
    for line in log:
        print(" ", line)
    # get_nowait and put_nowait wake parked tasks too; a woken getter that finds the queue
    # empty again parks at the back.
    q = asyncio.Queue(1)
    log = []
    c1 = asyncio.create_task(consumer("C1", q, 1, log))
    c2 = asyncio.create_task(consumer("C2", q, 1, log))
    await asyncio.sleep(0)
    q.put_nowait("first")
    print("stolen:", q.get_nowait(), str(q))
    await asyncio.sleep(0)
    print("after a step:", str(q))
    q.put_nowait("second")
    await asyncio.sleep(0)
    q.put_nowait("third")
    await c1
    await c2
    for line in log:
        print(" ", line)
    # A putter woken by get_nowait while another put_nowait fills the slot first parks again.
    q = asyncio.Queue(1)
    q.put_nowait(0)
    log = []
    p = asyncio.create_task(producer("P", q, [1], log))
    await asyncio.sleep(0)
    print(q.get_nowait(), str(q))
    q.put_nowait(2)
    await asyncio.sleep(0)
    print("after a step:", str(q))
    print(q.get_nowait())
    await p
    print(q.get_nowait(), log)
    print("done")


asyncio.run(main())
