# Waiters cancelled at the front, in the middle and at the back of an Event's and a Lock's
# queue leave it at once. The others are woken, or handed the lock, in the order they came;
# a task that waits again after its cancellation joins the back of the queue.
import asyncio

CANCEL = (0, 4, 7, 2)


async def event_waiter(name, ev, log):
    try:
        await ev.wait()
        log.append(name)
    except asyncio.CancelledError:
        log.append(name + " cancelled")
        await ev.wait()
        log.append(name + " again")


async def lock_waiter(name, lock, log):
    try:
        async with lock:
            log.append(name)
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        log.append(name + " cancelled")


async def cancel_some(waiter, wake):
    """Starts eight waiters, cancels those in CANCEL, then wakes the queue; returns the log."""
    log = []
    tasks = [asyncio.create_task(waiter(i, log)) for i in range(8)]
    await asyncio.sleep(0)
    for i in CANCEL:
        tasks[i].cancel()
    await asyncio.sleep(0)
    wake()
    for t in tasks:
        await t
    return log


async def event_part():
    ev = asyncio.Event()
    log = await cancel_some(lambda i, log: event_waiter("e%d" % i, ev, log), ev.set)
    print("event:", log)


async def lock_part():
    lock = asyncio.Lock()
    await lock.acquire()
    log = await cancel_some(lambda i, log: lock_waiter("l%d" % i, lock, log), lock.release)
    print("lock:", log)
    print("locked at end:", lock.locked())


asyncio.run(event_part())
asyncio.run(lock_part())
