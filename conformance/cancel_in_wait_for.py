# Cancelling a task that is inside wait_for(): the awaited coroutine is
# cancelled too (runs its cleanup), and the task sees CancelledError, not
# TimeoutError.
import asyncio

log = []


async def inner():
    try:
        await asyncio.sleep(10)
    finally:
        log.append("inner cleanup")


async def outer():
    try:
        await asyncio.wait_for(inner(), 5)
        log.append("outer: no exception?")
    except asyncio.TimeoutError:
        log.append("outer: TimeoutError (wrong)")
    except asyncio.CancelledError:
        log.append("outer: CancelledError")
        raise


async def main():
    t = asyncio.create_task(outer())
    await asyncio.sleep(0.02)
    print("cancel ->", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("main: outer task raised CancelledError")
    await asyncio.sleep(0.02)
    print("log:", sorted(log))
    print("done() =", t.done())
    print("done")


asyncio.run(main())
