# A waiter cancelled right after the lock was handed to it (released, but
# the waiter has not run yet) passes the lock on to the next waiter.
import asyncio

tasks = {}
got = []


async def waiter(name, lock):
    try:
        await lock.acquire()
    except asyncio.CancelledError:
        print(name, "cancelled before it could take the lock")
        raise
    got.append(name)
    print(name, "acquired")
    lock.release()


async def main():
    lock = asyncio.Lock()
    await lock.acquire()
    for n in ("B", "C"):
        tasks[n] = asyncio.create_task(waiter(n, lock))
    await asyncio.sleep(0.01)
    lock.release()
    print("released; cancel B ->", tasks["B"].cancel())
    try:
        await tasks["B"]
    except asyncio.CancelledError:
        print("main: B raised CancelledError")
    await tasks["C"]
    print("got:", got)
    print("locked at end:", lock.locked())
    print("done")


asyncio.run(main())
