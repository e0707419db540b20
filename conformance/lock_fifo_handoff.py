# Tasks blocked on a Lock get it in the order they asked for it.
import asyncio

order = []


async def holder(lock):
    await lock.acquire()
    print("holder has the lock")
    await asyncio.sleep(0.02)
    print("holder releases")
    lock.release()


async def waiter(name, lock):
    await lock.acquire()
    order.append(name)
    print(name, "acquired")
    await asyncio.sleep(0)
    lock.release()


async def main():
    lock = asyncio.Lock()
    h = asyncio.create_task(holder(lock))
    await asyncio.sleep(0)
    names = ["w3", "w1", "w4", "w2"]
    ws = []
    for n in names:
        ws.append(asyncio.create_task(waiter(n, lock)))
        await asyncio.sleep(0)
    await h
    for w in ws:
        await w
    print("order:", order, order == names)
    print("locked:", lock.locked())
    print("done")


asyncio.run(main())
