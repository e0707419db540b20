# CPython's Semaphore: units are handed to waiters in the order they queued, a task that
# arrives while others wait queues behind them even when a unit is free, and `async with`
# enters with None while `acquire()` returns True.
import asyncio

log = []


async def worker(name, sem, hold):
    print(name, "asks; locked:", sem.locked())
    async with sem as entered:
        print(name, "in; entered:", entered, "locked:", sem.locked())
        log.append(name)
        for _ in range(hold):
            await asyncio.sleep(0)
    print(name, "out")


async def main():
    sem = asyncio.Semaphore(2)
    print("Semaphore(2) locked:", sem.locked())
    print("acquire:", await sem.acquire())
    print("acquire:", await sem.acquire())
    print("locked:", sem.locked())
    tasks = [asyncio.create_task(worker(n, sem, h)) for n, h in (("a", 3), ("b", 1), ("c", 2), ("d", 0), ("e", 1))]
    await asyncio.sleep(0)
    print("all five queued; locked:", sem.locked())
    sem.release()
    print("one released; locked:", sem.locked())
    sem.release()
    print("two released; locked:", sem.locked())
    for t in tasks:
        await t
    print("order:", log)
    print("locked:", sem.locked())

    # A unit freed while a woken waiter has not run yet does not let a newcomer in.
    sem = asyncio.Semaphore(0)

    async def taker(name):
        print(name, "acquired:", await sem.acquire())

    first = asyncio.create_task(taker("first"))
    await asyncio.sleep(0)
    sem.release()
    sem.release()
    print("released twice before first ran; locked:", sem.locked())
    late = asyncio.create_task(taker("late"))
    await asyncio.sleep(0)
    await first
    await late
    print("locked:", sem.locked())

    # Default value, keyword argument, errors.
    print(asyncio.Semaphore().locked(), asyncio.Semaphore(value=0).locked())
    try:
        asyncio.Semaphore(-1)
    except ValueError as e:
        print("ValueError:", e)
    print("done")


asyncio.run(main())
