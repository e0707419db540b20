# CPython's Semaphore under cancellation: a parked waiter that is cancelled leaves the queue;
# a waiter handed a unit and cancelled before it runs gives the unit to the next waiter;
# wait_for on acquire() times out and leaves the count as it was.
import asyncio

got = []


async def waiter(name, sem):
    try:
        print(name, "acquired:", await sem.acquire())
    except asyncio.CancelledError:
        print(name, "cancelled; locked:", sem.locked())
        raise
    got.append(name)


async def settle(task):
    try:
        await task
    except asyncio.CancelledError:
        print("  task raised CancelledError")


async def main():
    sem = asyncio.Semaphore(1)
    await sem.acquire()
    ts = {n: asyncio.create_task(waiter(n, sem)) for n in "ABCD"}
    await asyncio.sleep(0)

    # B is parked: cancelling it takes it out of the queue.
    print("cancel parked B:", ts["B"].cancel())
    await settle(ts["B"])

    # A is handed the unit, then cancelled before it runs: C gets it.
    sem.release()
    print("released; cancel woken A:", ts["A"].cancel())
    await settle(ts["A"])
    await ts["C"]
    print("got:", got, "locked:", sem.locked())

    # D waits; C's unit comes back for it.
    sem.release()
    await ts["D"]
    print("got:", got, "locked:", sem.locked())
    sem.release()
    print("locked after the last release:", sem.locked())

    # Two units handed to two waiters at once, both cancelled before running: the units come
    # back, and the waiter after them gets one.
    sem = asyncio.Semaphore(0)
    ts = {n: asyncio.create_task(waiter(n, sem)) for n in "EFG"}
    await asyncio.sleep(0)
    sem.release()
    sem.release()
    ts["E"].cancel()
    ts["F"].cancel()
    await settle(ts["E"])
    await settle(ts["F"])
    await ts["G"]
    print("got:", got, "locked:", sem.locked())
    sem.release()

    # wait_for on acquire: the first times out, the second is served by a release.
    sem = asyncio.Semaphore(0)
    try:
        await asyncio.wait_for(sem.acquire(), 0.02)
    except asyncio.TimeoutError:
        print("acquire timed out; locked:", sem.locked())

    async def later():
        await asyncio.sleep(0.02)
        print("later releases")
        sem.release()

    t = asyncio.create_task(later())
    print("wait_for acquire:", await asyncio.wait_for(sem.acquire(), 1))
    await t
    print("locked:", sem.locked())
    print("done")


asyncio.run(main())
