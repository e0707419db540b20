# wait_for: 20,000 wait_for calls whose coroutine completes (after one yield), then 200 that
# time out (10 ms each, all at once); prints wait_for calls per second.
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

COMPLETE = 20_000
TIMEOUT = 200


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def quick(i):
    await asyncio.sleep(0)
    return i


async def slow():
    await asyncio.sleep(10)


async def times_out():
    try:
        await asyncio.wait_for(slow(), 0.01)
    except asyncio.TimeoutError:
        return 1
    return 0


async def main():
    for i in range(COMPLETE):
        assert await asyncio.wait_for(quick(i), 10) == i
    timed_out = await asyncio.gather(*[times_out() for _ in range(TIMEOUT)])
    assert sum(timed_out) == TIMEOUT


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("wait_for", int((COMPLETE + TIMEOUT) / elapsed), "calls/s")
