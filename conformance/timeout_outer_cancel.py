# A cancellation from outside reaches a task inside asyncio.timeout through the task awaiting
# it: it counts as a cancel request there too (cancelling()), so the timeout, expired at the
# same time, does not turn it into TimeoutError; a second cancel keeps the first message.
import asyncio

cm = None


async def inner():
    global cm
    try:
        async with asyncio.timeout(10) as cm:
            await asyncio.sleep(1)
    except BaseException as e:
        print("inner raising", type(e).__name__, "cancelling", asyncio.current_task().cancelling())
        raise


async def outer():
    return await asyncio.create_task(inner())


async def sleeper():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        print("sleeper got", e.args)
        raise


async def main():
    o = asyncio.create_task(outer())
    await asyncio.sleep(0.01)
    cm.reschedule(asyncio.get_running_loop().time() - 1)
    await asyncio.sleep(0)
    o.cancel()
    try:
        await o
    except BaseException as e:
        print("main got", type(e).__name__, o.cancelling())
    s = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    s.cancel("first")
    s.cancel("second")
    try:
        await s
    except asyncio.CancelledError:
        print("cancelled", s.cancelling())
    for method in (s.result, s.exception):
        try:
            method()
        except asyncio.CancelledError as e:
            print(method.__name__, "raised CancelledError", e.args)


asyncio.run(main())
print("done")
