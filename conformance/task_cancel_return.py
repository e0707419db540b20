# Task.cancel() returns True for a pending task and False for a task that
# has already finished (normally or with an exception).
import asyncio


async def sleeper():
    await asyncio.sleep(1)


async def quick():
    return "ok"


async def bad():
    raise ValueError("v")


async def main():
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    print("cancel pending:", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("pending task cancelled")
    print("cancel already cancelled task:", t.cancel())

    q = asyncio.create_task(quick())
    print("await quick:", await q)
    print("cancel finished:", q.cancel())
    print("result still:", await q)

    b = asyncio.create_task(bad())
    try:
        await b
    except ValueError:
        print("bad raised")
    print("cancel failed task:", b.cancel())
    print("done")


asyncio.run(main())
