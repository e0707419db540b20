# CPython's Condition under cancellation: a waiter cancelled while parked, after being
# notified, or while it waits to take the lock back, raises CancelledError only once it holds
# the lock again; a notified waiter that is cancelled loses the notification. wait_for on
# wait() times out with the lock held again.
import asyncio


async def waiter(name, cond):
    async with cond:
        try:
            await cond.wait()
            print(name, "woke; locked:", cond.locked())
        except asyncio.CancelledError:
            print(name, "cancelled; locked:", cond.locked())
            raise
        finally:
            print(name, "leaves the block")


async def settle(name, task):
    try:
        await task
        print(name, "finished")
    except asyncio.CancelledError:
        print(name, "raised CancelledError")


async def main():
    cond = asyncio.Condition()
    ts = {n: asyncio.create_task(waiter(n, cond)) for n in "ABCDE"}
    await asyncio.sleep(0)

    # A: cancelled while parked, with the lock free: takes it and raises.
    ts["A"].cancel()
    await settle("A", ts["A"])
    print("locked:", cond.locked())

    # B: cancelled while parked while main holds the lock: waits for it first.
    async with cond:
        ts["B"].cancel()
        await asyncio.sleep(0)
        print("B is waiting for the lock; main releases")
    await settle("B", ts["B"])

    # C: notified, then cancelled before it runs: the notification is lost (D is not woken).
    async with cond:
        cond.notify()
        ts["C"].cancel()
    await settle("C", ts["C"])
    await asyncio.sleep(0.01)
    print("D still waiting:", not ts["D"].done())

    # D: notified while main holds the lock, then cancelled while it waits for the lock.
    async with cond:
        cond.notify()
        await asyncio.sleep(0)
        ts["D"].cancel()
        await asyncio.sleep(0)
        print("D cancelled while waiting for the lock; main releases")
    await settle("D", ts["D"])

    # E: woken normally.
    async with cond:
        cond.notify_all()
    await settle("E", ts["E"])
    print("locked:", cond.locked())

    # wait_for on wait(): times out, and the lock is held again afterwards.
    async with cond:
        try:
            await asyncio.wait_for(cond.wait(), 0.02)
        except asyncio.TimeoutError:
            print("wait timed out; locked:", cond.locked())
    print("locked:", cond.locked())

    # wait_for(predicate)
    state = {"n": 0}
    calls = []

    def ready():
        calls.append(state["n"])
        return state["n"] >= 3 and "ready"

    async def consumer():
        async with cond:
            result = await cond.wait_for(ready)
            print("consumer got:", result, "locked:", cond.locked())

    async def producer():
        for _ in range(4):
            await asyncio.sleep(0.01)
            async with cond:
                state["n"] += 1
                cond.notify()

    c = asyncio.create_task(consumer())
    p = asyncio.create_task(producer())
    await c
    await p
    print("predicate calls:", calls)

    # A true predicate returns at once; wait_for on it, cancelled: lock held again.
    async with cond:
        print("wait_for true:", await cond.wait_for(lambda: 42))

    async def stuck():
        async with cond:
            try:
                await cond.wait_for(lambda: False)
            except asyncio.CancelledError:
                print("stuck cancelled; locked:", cond.locked())
                raise

    s = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    s.cancel()
    await settle("stuck", s)
    print("locked:", cond.locked())
    print("done")


asyncio.run(main())
