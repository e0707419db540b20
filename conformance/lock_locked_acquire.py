# Lock.locked() tracks the state; acquire() returns True, immediately when
# the lock is free and after waiting when it is not.
import asyncio


async def other(lock):
    print("other: acquiring")
    r = await lock.acquire()
    print("other: acquire returned", r, "locked =", lock.locked())
    lock.release()


async def main():
    lock = asyncio.Lock()
    print("new lock locked:", lock.locked())
    r = await lock.acquire()
    print("acquire returned", r)
    print("locked:", lock.locked())
    t = asyncio.create_task(other(lock))
    await asyncio.sleep(0.01)
    print("other waiting, done =", t.done(), "locked =", lock.locked())
    lock.release()
    print("released, other not run yet, done =", t.done())
    await t
    print("final locked:", lock.locked())
    print("done")


asyncio.run(main())
