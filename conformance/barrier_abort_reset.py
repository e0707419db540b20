# CPython's Barrier broken and reset: abort() makes waiting and arriving tasks raise
# BrokenBarrierError until reset(); reset() with tasks waiting makes them raise it and the
# barrier fills again once they have left; a cancelled waiter leaves without breaking it.
import asyncio


async def worker(name, barrier):
    try:
        index = await barrier.wait()
        print(name, "passed with index", index)
    except asyncio.BrokenBarrierError as e:
        print(name, "BrokenBarrierError:", e, "| broken:", barrier.broken, "n_waiting:", barrier.n_waiting)
    except asyncio.CancelledError:
        print(name, "cancelled; n_waiting:", barrier.n_waiting)
        raise


async def settle(name, task):
    try:
        await task
    except asyncio.CancelledError:
        print(name, "raised CancelledError")


async def main():
    barrier = asyncio.Barrier(3)
    ts = [asyncio.create_task(worker(n, barrier)) for n in ("a", "b")]
    await asyncio.sleep(0)
    print("n_waiting:", barrier.n_waiting)
    await barrier.abort()
    print("aborted; broken:", barrier.broken, "n_waiting:", barrier.n_waiting)
    for t in ts:
        await t
    late = asyncio.create_task(worker("late", barrier))
    await late
    try:
        async with barrier:
            print("not reached")
    except asyncio.BrokenBarrierError as e:
        print("async with: BrokenBarrierError:", e)

    await barrier.reset()
    print("reset; broken:", barrier.broken, "n_waiting:", barrier.n_waiting)
    ts = [asyncio.create_task(worker(n, barrier)) for n in ("c", "d", "e")]
    for t in ts:
        await t

    # reset() while two wait: they raise; a task arriving meanwhile waits for them to leave.
    ts = [asyncio.create_task(worker(n, barrier)) for n in ("f", "g")]
    await asyncio.sleep(0)
    await barrier.reset()
    print("reset with waiters; n_waiting:", barrier.n_waiting, "broken:", barrier.broken)
    h = asyncio.create_task(worker("h", barrier))
    await asyncio.sleep(0)
    print("n_waiting after h arrived:", barrier.n_waiting)
    for t in ts:
        await t
    print("n_waiting after f and g left:", barrier.n_waiting)
    i = asyncio.create_task(worker("i", barrier))
    j = asyncio.create_task(worker("j", barrier))
    for t in (h, i, j):
        await t

    # A cancelled waiter leaves; the barrier is not broken and fills with others.
    ts = {n: asyncio.create_task(worker(n, barrier)) for n in ("k", "l")}
    await asyncio.sleep(0)
    print("n_waiting:", barrier.n_waiting)
    ts["k"].cancel()
    await settle("k", ts["k"])
    print("after cancel; n_waiting:", barrier.n_waiting, "broken:", barrier.broken)
    ts["m"] = asyncio.create_task(worker("m", barrier))
    ts["n"] = asyncio.create_task(worker("n", barrier))
    for n in ("l", "m", "n"):
        await ts[n]

    # wait_for on wait(): times out, the task leaves the barrier.
    try:
        await asyncio.wait_for(barrier.wait(), 0.02)
    except asyncio.TimeoutError:
        print("wait timed out; n_waiting:", barrier.n_waiting, "broken:", barrier.broken)

    # Cancelled while the barrier drains: it is not counted and leaves.
    barrier = asyncio.Barrier(2)
    ts = {n: asyncio.create_task(worker(n, barrier)) for n in ("o", "p", "q")}
    await asyncio.sleep(0)
    ts["q"].cancel()
    for n in ("o", "p", "q"):
        await settle(n, ts[n])
    print("n_waiting:", barrier.n_waiting)

    # abort() while the barrier drains: the waiters already released still pass.
    barrier = asyncio.Barrier(2)
    ts = [asyncio.create_task(worker(n, barrier)) for n in ("r", "s", "t")]
    await asyncio.sleep(0)
    await barrier.abort()
    for t in ts:
        await t
    print("broken:", barrier.broken)
    await barrier.reset()
    await barrier.reset()
    print("broken after two resets:", barrier.broken, "n_waiting:", barrier.n_waiting)
    print("done")


asyncio.run(main())
