# asyncio.timeout and timeout_at: the block's task is cancelled at the deadline and the block
# raises TimeoutError; a block that ends in time is untouched; reschedule and expired().
import asyncio


async def main():
    try:
        async with asyncio.timeout(0.02) as cm:
            print("expired before", cm.expired())
            await asyncio.sleep(1)
    except TimeoutError:
        print("TimeoutError, expired", cm.expired())
    async with asyncio.timeout(0.5) as cm:
        await asyncio.sleep(0.01)
    print("in time, expired", cm.expired())
    async with asyncio.timeout(None) as cm:
        print("no deadline", cm.when())
        await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(loop.time() + 0.02) as cm:
            cm.reschedule(loop.time() + 0.04)
            await asyncio.sleep(0.03)
            print("rescheduled: still running")
            await asyncio.sleep(1)
    except TimeoutError:
        print("TimeoutError after reschedule")
    try:
        async with asyncio.timeout(0):
            await asyncio.sleep(0)
            print("not reached")
    except TimeoutError:
        print("zero timeout")

    async def inner():
        try:
            async with asyncio.timeout(1):
                await asyncio.sleep(1)
        except TimeoutError:
            print("wrong")

    t = asyncio.create_task(inner())
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("outside cancellation stays CancelledError")
    cm = asyncio.timeout(1)
    try:
        cm.reschedule(None)
    except RuntimeError as e:
        print("RuntimeError", e)


asyncio.run(main())
print("done")
