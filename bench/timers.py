# timers: 10,000 tasks each sleeping 0-499 ms (task i sleeps i % 500 ms); prints how late they
# woke: p99 first (the headline figure, lower is better), then p50 and max, in ms.
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

TASKS = 10_000


def now_ms():
    if hasattr(time, "perf_counter"):
        return time.perf_counter() * 1000
    return time.ticks_us() / 1000


async def sleeper(i, late):
    want = i % 500
    start = now_ms()
    await asyncio.sleep_ms(want) if hasattr(asyncio, "sleep_ms") else await asyncio.sleep(want / 1000)
    late.append(now_ms() - start - want)


async def main():
    late = []
    await asyncio.gather(*[sleeper(i, late) for i in range(TASKS)])
    return sorted(late)


late = asyncio.run(main())
p = lambda q: late[min(len(late) - 1, int(q * len(late)))]
print("timers", "%.3f" % p(0.99), "ms-p99-late", "p50=%.3f" % p(0.5), "max=%.3f" % late[-1])
