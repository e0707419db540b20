# create: create and await 50,000 tasks that return at once; prints tasks per second.
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

TASKS = 50_000


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def job(i):
    return i


async def main():
    total = 0
    # In batches of 1,000, so the figure measures creation and completion, not memory growth.
    for base in range(0, TASKS, 1000):
        tasks = [asyncio.create_task(job(base + i)) for i in range(1000)]
        for t in tasks:
            total += await t
    assert total == TASKS * (TASKS - 1) // 2


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("create", int(TASKS / elapsed), "tasks/s")
