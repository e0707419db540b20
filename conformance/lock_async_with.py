# "async with lock" acquires and releases the Lock, also when the body
# raises; the exception still propagates.
import asyncio


async def use(lock, name):
    async with lock:
        print(name, "inside, locked =", lock.locked())
        await asyncio.sleep(0)
    print(name, "outside, locked =", lock.locked())


async def failing(lock):
    async with lock:
        print("failing: inside")
        raise ValueError("in with")


async def main():
    lock = asyncio.Lock()
    print("before:", lock.locked())
    await use(lock, "first")
    t1 = asyncio.create_task(use(lock, "t1"))
    t2 = asyncio.create_task(use(lock, "t2"))
    await t1
    await t2
    try:
        await failing(lock)
    except ValueError as e:
        print("caught", type(e).__name__, e.args)
    print("after failure, locked =", lock.locked())
    async with lock:
        print("reacquired fine")
    print("done")


asyncio.run(main())
