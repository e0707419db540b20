# A task that raises before anyone awaits it keeps its exception: awaiting
# it later (once, then again) re-raises the same exception object.
# (MicroPython's default exception handler may also report it on stderr,
# which this suite does not compare.)
import asyncio


async def bad():
    raise ValueError("late")


async def main():
    t = asyncio.create_task(bad())
    await asyncio.sleep(0.02)
    print("done() before await:", t.done())
    first = None
    try:
        await t
    except ValueError as e:
        first = e
        print("first await:", type(e).__name__, e.args)
    try:
        await t
    except ValueError as e:
        print("second await:", type(e).__name__, e.args, e is first)
    print("done")


asyncio.run(main())
