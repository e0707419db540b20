# CPython's Condition: wait() releases the lock and takes it again before returning True;
# notify(n) wakes the n oldest waiters, notify_all() every one; each returns from wait() in
# turn as it gets the lock back. Errors for using it without the lock.
import asyncio

events = []


async def waiter(name, cond):
    async with cond:
        print(name, "waits; locked:", cond.locked())
        result = await cond.wait()
        print(name, "woke:", result, "locked:", cond.locked())
        events.append(name)
        await asyncio.sleep(0)
        print(name, "leaves")


async def main():
    cond = asyncio.Condition()
    print("locked:", cond.locked())
    tasks = [asyncio.create_task(waiter(n, cond)) for n in ("w1", "w2", "w3", "w4", "w5", "w6")]
    await asyncio.sleep(0)
    print("all waiting; locked:", cond.locked())

    async with cond:
        cond.notify()
        print("notified 1")
    await asyncio.sleep(0.01)

    async with cond:
        cond.notify(2)
        print("notified 2")
        await asyncio.sleep(0)
        print("main still holds the lock")
    await asyncio.sleep(0.01)

    async with cond:
        cond.notify(0)
        cond.notify(-1)
        print("notified 0 and -1")
    await asyncio.sleep(0.01)
    print("woken so far:", events)

    async with cond:
        cond.notify_all()
        print("notified all")
    for t in tasks:
        await t
    print("order:", events)

    # notify with nobody waiting is fine
    async with cond:
        cond.notify()
        cond.notify_all()

    # without the lock
    try:
        cond.notify()
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        cond.notify_all()
    except RuntimeError as e:
        print("RuntimeError:", e)
    w = cond.wait()
    try:
        await w
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        cond.release()
    except RuntimeError:
        print("RuntimeError from release")

    # acquire/release/locked are the lock's
    lock = asyncio.Lock()
    cond = asyncio.Condition(lock)
    print("acquire:", await cond.acquire(), lock.locked(), cond.locked())
    cond.release()
    print(lock.locked(), cond.locked())
    async with cond as entered:
        print("entered:", entered, lock.locked())
    print("done")


asyncio.run(main())
