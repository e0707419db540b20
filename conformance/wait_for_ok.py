# wait_for() returns the awaitable's value when it finishes in time
# (including immediately, and including a None result).
import asyncio


async def work(v, ms):
    await asyncio.sleep(ms / 1000)
    return v


async def nothing():
    pass


async def main():
    print("value:", await asyncio.wait_for(work(42, 10), 1))
    print("instant:", await asyncio.wait_for(work("now", 0), 1))
    print("none:", await asyncio.wait_for(nothing(), 1))
    print("float timeout:", await asyncio.wait_for(work([1, 2], 5), 0.5))
    print("done")


asyncio.run(main())
