# gather: 5 x gather of 10,000 coroutines that each yield once; prints results per second.
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

ROUNDS = 5
COROS = 10_000


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def once(i):
    await asyncio.sleep(0)
    return i


async def main():
    for _ in range(ROUNDS):
        results = await asyncio.gather(*[once(i) for i in range(COROS)])
        assert results[-1] == COROS - 1


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("gather", int(ROUNDS * COROS / elapsed), "results/s")
