# CPython's async generators keep their meaning: an `async def` with `yield` and no
# `return <value>` is an async generator, iterated with `async for`, asend, aclose.
# (MicroPython has no async generators: listed under "MicroPython's unix port
# cannot run these".)
import asyncio


async def countdown(n):
    while n > 0:
        await asyncio.sleep(0)
        yield n
        n -= 1
    return


async def echo():
    got = None
    try:
        while True:
            got = yield got
    finally:
        print("echo closed")


async def main():
    g = countdown(3)
    print(type(g).__name__)
    print([v async for v in g])
    async for v in countdown(2):
        print("v", v)
    e = echo()
    print(await e.asend(None))
    print(await e.asend("hi"))
    await e.aclose()
    print(await countdown(1).__anext__())


asyncio.run(main())
