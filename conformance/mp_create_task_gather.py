# In MicroPython, gather() returns a generator-based awaitable, so it can
# be handed straight to create_task() (CPython needs a wrapper coroutine).
import asyncio


async def val(v, ms):
    await asyncio.sleep_ms(ms)
    return v


async def main():
    g = asyncio.create_task(asyncio.gather(val("a", 20), val("b", 10)))
    print("gather task done before await:", g.done())
    print(await g)
    print("done")


asyncio.run(main())
