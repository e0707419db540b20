# Cancelling a task that waits in gather: children already scheduled take their first step
# before they see the cancellation.
import asyncio


async def child(n):
    print("child", n, "start")
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        print("child", n, "cancelled")
        raise
    print("child", n, "end")


async def parent():
    try:
        await asyncio.gather(child(1), child(2))
    except asyncio.CancelledError:
        print("parent cancelled")


async def main():
    p = asyncio.create_task(parent())
    await asyncio.sleep(0)
    print("cancel", p.cancel())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print("parent done", p.done())
    print("done")


asyncio.run(main())
