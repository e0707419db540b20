# Cancelling a task blocked in Lock.acquire(): it gets CancelledError and
# never holds the lock; the holder keeps it until it releases.
import asyncio


async def holder(lock):
    await lock.acquire()
    print("holder: acquired")
    await asyncio.sleep(0.03)
    print("holder: releasing")
    lock.release()


async def blocked(lock):
    try:
        await lock.acquire()
        print("blocked: acquired?")
        lock.release()
    except asyncio.CancelledError:
        print("blocked: cancelled while waiting for lock")
        raise


async def main():
    lock = asyncio.Lock()
    h = asyncio.create_task(holder(lock))
    await asyncio.sleep(0)
    b = asyncio.create_task(blocked(lock))
    await asyncio.sleep(0.01)
    print("locked:", lock.locked())
    print("cancel ->", b.cancel())
    try:
        await b
    except asyncio.CancelledError:
        print("main: blocked task cancelled")
    print("still locked by holder:", lock.locked())
    await h
    print("locked after holder:", lock.locked())
    print("done")


asyncio.run(main())
