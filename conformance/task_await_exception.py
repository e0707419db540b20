# Awaiting a task that raised re-raises the same exception object, and does
# so again on every later await.
import asyncio


async def boom():
    await asyncio.sleep(0.01)
    raise ValueError("boom", 42)


async def main():
    t = asyncio.create_task(boom())
    first = None
    try:
        await t
    except ValueError as e:
        first = e
        print("caught", type(e).__name__, e.args)
    print("done()", t.done())
    try:
        await t
    except ValueError as e:
        print("caught again", type(e).__name__, e.args)
        print("same exception object:", e is first)
    try:
        await t
    except ValueError as e:
        print("caught a third time, same:", e is first)
    print("done")


asyncio.run(main())
