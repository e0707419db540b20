# Only one task at a time is inside the critical section, even though each
# one yields while holding the lock.
import asyncio

inside = [0]
max_inside = [0]


async def worker(name, lock):
    for i in range(2):
        await lock.acquire()
        inside[0] += 1
        max_inside[0] = max(max_inside[0], inside[0])
        print(name, "enter", i)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        print(name, "leave", i)
        inside[0] -= 1
        lock.release()
        await asyncio.sleep(0)


async def main():
    lock = asyncio.Lock()
    ts = [asyncio.create_task(worker(n, lock)) for n in ("A", "B", "C")]
    for t in ts:
        await t
    print("max inside:", max_inside[0])
    print("locked at end:", lock.locked())
    print("done")


asyncio.run(main())
