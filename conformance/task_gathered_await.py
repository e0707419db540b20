# A task gathered cannot also be awaited, and a task awaited cannot be gathered, as in
# MicroPython.
import asyncio


async def child():
    await asyncio.sleep(0)
    return "child"


async def await_it(t):
    try:
        print("await ->", await t)
    except RuntimeError as e:
        print("await raised", e.args)


async def gather_it(t):
    try:
        print("gather ->", await asyncio.gather(t))
    except RuntimeError as e:
        print("gather raised", e.args)


async def main():
    t = asyncio.create_task(child())
    g = asyncio.create_task(gather_it(t))
    await asyncio.sleep(0)
    await await_it(t)
    await g
    u = asyncio.create_task(child())
    a = asyncio.create_task(await_it(u))
    await asyncio.sleep(0)
    await gather_it(u)
    await a
    print("done")


asyncio.run(main())
