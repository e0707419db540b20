# queue: producers and consumers through asyncio.Queue, 4 of each, in two phases: an unbounded
# queue (producers put 25,000 items each, yielding every 10) and a queue bounded at 10 (puts
# and gets park and wake each other), each consumer calling task_done and the main task
# joining the queue; prints items per second over both phases. Runs unchanged under microloop,
# CPython 3 and uvloop (MicroPython's asyncio has no Queue: bench/run skips it there).
import asyncio
import time

PRODUCERS = 4
CONSUMERS = 4
ITEMS = 25_000
BOUNDED = 10


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def producer(q, start, burst):
    for i in range(start, start + ITEMS):
        await q.put(i)
        if burst and i % burst == 0:
            await asyncio.sleep(0)


async def consumer(q, total):
    while True:
        item = await q.get()
        q.task_done()
        if item is None:
            return
        total[0] += item


async def phase(maxsize, burst):
    q = asyncio.Queue(maxsize)
    total = [0]
    consumers = [asyncio.create_task(consumer(q, total)) for _ in range(CONSUMERS)]
    await asyncio.gather(*[producer(q, p * ITEMS, burst) for p in range(PRODUCERS)])
    for _ in range(CONSUMERS):
        await q.put(None)
    await q.join()
    await asyncio.gather(*consumers)
    n = PRODUCERS * ITEMS
    assert total[0] == n * (n - 1) // 2, total[0]


async def main():
    await phase(0, 10)
    await phase(BOUNDED, 0)


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("queue", int(2 * PRODUCERS * ITEMS / elapsed), "items/s")
