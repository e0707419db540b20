# switch: 100 tasks x 2,000 `await asyncio.sleep(0)`; prints task switches per second.
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

TASKS = 100
ROUNDS = 2000


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def worker():
    for _ in range(ROUNDS):
        await asyncio.sleep(0)


async def main():
    tasks = [asyncio.create_task(worker()) for _ in range(TASKS)]
    for t in tasks:
        await t


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("switch", int(TASKS * ROUNDS / elapsed), "switches/s")
