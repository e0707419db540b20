# A Lock handed to a waiter by release() takes its turn among tasks made ready by sleep(0).
import asyncio

lock = asyncio.Lock()


async def holder():
    await lock.acquire()
    print("holder has lock")
    await asyncio.sleep(0)
    print("holder releases")
    lock.release()
    print("holder locked() after release", lock.locked())
    await asyncio.sleep(0)
    print("holder end")


async def waiter(n):
    print("waiter", n, "acquiring")
    async with lock:
        print("waiter", n, "has lock")
        await asyncio.sleep(0)
    print("waiter", n, "released")


async def spinner():
    for i in range(4):
        print("spin", i)
        await asyncio.sleep(0)


async def main():
    await asyncio.gather(holder(), waiter(1), spinner(), waiter(2))
    print("done")


asyncio.run(main())
