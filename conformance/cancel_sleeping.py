# Cancelling a task that sleeps wakes it at once with CancelledError; its
# except and finally blocks run, and awaiting it raises CancelledError.
import asyncio


async def sleeper():
    print("sleeper: going to sleep")
    try:
        await asyncio.sleep(10)
        print("sleeper: woke normally?")
    except asyncio.CancelledError:
        print("sleeper: got CancelledError")
        raise
    finally:
        print("sleeper: finally")


async def main():
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0.01)
    print("main: cancel ->", t.cancel())
    try:
        await t
        print("main: no exception?")
    except asyncio.CancelledError:
        print("main: await raised CancelledError")
    print("main: done() =", t.done())
    print("done")


asyncio.run(main())
