# lock: 50 tasks x 1,000 `async with lock`, each holding it across a sleep(0); prints
# acquisitions per second. Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

TASKS = 50
ROUNDS = 1000


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def worker(lock, counter):
    for _ in range(ROUNDS):
        async with lock:
            counter[0] += 1
            await asyncio.sleep(0)


async def main():
    lock = asyncio.Lock()
    counter = [0]
    await asyncio.gather(*[worker(lock, counter) for _ in range(TASKS)])
    assert counter[0] == TASKS * ROUNDS


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("lock", int(TASKS * ROUNDS / elapsed), "acquisitions/s")
