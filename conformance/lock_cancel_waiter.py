# A cancelled waiter is skipped: the lock passes to the next waiter in
# line, and ends up unlocked once everyone is done.
import asyncio

got = []


async def holder(lock):
    async with lock:
        print("holder: acquired")
        await asyncio.sleep(0.03)
        print("holder: releasing")


async def waiter(name, lock):
    try:
        async with lock:
            got.append(name)
            print(name, "acquired")
            await asyncio.sleep(0)
        print(name, "released")
    except asyncio.CancelledError:
        print(name, "cancelled")
        raise


async def main():
    lock = asyncio.Lock()
    h = asyncio.create_task(holder(lock))
    await asyncio.sleep(0)
    a = asyncio.create_task(waiter("A", lock))
    b = asyncio.create_task(waiter("B", lock))
    c = asyncio.create_task(waiter("C", lock))
    await asyncio.sleep(0.01)
    print("cancel B ->", b.cancel())
    try:
        await b
    except asyncio.CancelledError:
        print("main: B raised CancelledError")
    await h
    await a
    await c
    print("got:", got)
    print("locked at end:", lock.locked())
    print("done")


asyncio.run(main())
