# An exception raised by main (directly or from an awaited task) comes out
# of asyncio.run(); a later asyncio.run() still works.
import asyncio


async def direct():
    await asyncio.sleep(0)
    raise ValueError("from main", 1)


async def child():
    await asyncio.sleep(0.01)
    raise KeyError("from child")


async def via_task():
    await asyncio.create_task(child())


async def fine():
    return "fine"


for coro_fn in (direct, via_task):
    try:
        asyncio.run(coro_fn())
        print("no exception?")
    except (ValueError, KeyError) as e:
        print("asyncio.run raised", type(e).__name__, e.args)
try:
    asyncio.run(direct())
except Exception as e:
    print("caught as Exception:", type(e).__name__)
print("after errors:", asyncio.run(fine()))
print("done")
