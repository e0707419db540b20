# Cancelling a task that is awaiting another task: the cancellation reaches
# the awaited task as well (both see CancelledError, inner first).
import asyncio


async def inner():
    try:
        await asyncio.sleep(10)
        return "inner finished"
    except asyncio.CancelledError:
        print("inner: cancelled")
        raise
    finally:
        print("inner: finally")


async def outer(t):
    try:
        return await t
    except asyncio.CancelledError:
        print("outer: cancelled")
        raise


async def main():
    ti = asyncio.create_task(inner())
    to = asyncio.create_task(outer(ti))
    await asyncio.sleep(0.01)
    print("cancel outer ->", to.cancel())
    try:
        await to
    except asyncio.CancelledError:
        print("main: outer raised CancelledError")
    await asyncio.sleep(0.01)
    print("inner done:", ti.done(), "outer done:", to.done())
    try:
        await ti
    except asyncio.CancelledError:
        print("main: inner raised CancelledError")
    print("done")


asyncio.run(main())
