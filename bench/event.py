# event: two tasks ping-pong through two Events, 50,000 round trips; prints round trips per
# second. Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import time

TRIPS = 50_000


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def pinger(ping, pong):
    for _ in range(TRIPS):
        ping.set()
        await pong.wait()
        pong.clear()


async def ponger(ping, pong):
    for _ in range(TRIPS):
        await ping.wait()
        ping.clear()
        pong.set()


async def main():
    ping, pong = asyncio.Event(), asyncio.Event()
    await asyncio.gather(pinger(ping, pong), ponger(ping, pong))


start = now_s()
asyncio.run(main())
elapsed = now_s() - start
print("event", int(TRIPS / elapsed), "round-trips/s")
