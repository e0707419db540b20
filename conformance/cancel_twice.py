# Calling cancel() twice before the task runs again: both calls return
# True, and the task sees a single CancelledError that it can survive.
import asyncio


async def survivor():
    hits = 0
    for _ in range(2):
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            hits += 1
            print("survivor: caught CancelledError")
    return hits


async def main():
    t = asyncio.create_task(survivor())
    await asyncio.sleep(0.01)
    print("first cancel ->", t.cancel())
    print("second cancel ->", t.cancel())
    r = await t
    print("cancellations seen:", r)
    print("done")


asyncio.run(main())
