# CPython's Barrier: wait() returns each task's arrival index once the last of `parties`
# tasks arrives; the waiters resume in arrival order; tasks arriving while the barrier drains
# wait for the next round. parties, n_waiting, broken; async with.
import asyncio


async def worker(name, barrier, rounds, log):
    for r in range(rounds):
        print(name, "arrives in round", r, "n_waiting:", barrier.n_waiting)
        index = await barrier.wait()
        print(name, "passes round", r, "index", index)
        log.append((r, name, index))


async def main():
    barrier = asyncio.Barrier(3)
    print("parties:", barrier.parties, "n_waiting:", barrier.n_waiting, "broken:", barrier.broken)
    log = []
    tasks = [asyncio.create_task(worker(n, barrier, 3, log)) for n in ("a", "b", "c")]
    for t in tasks:
        await t
    print(log)
    print("n_waiting:", barrier.n_waiting, "broken:", barrier.broken)

    # Five tasks on a barrier of two: they pass in pairs, the fifth waits for a partner.
    barrier = asyncio.Barrier(2)
    log = []
    tasks = [asyncio.create_task(worker(n, barrier, 1, log)) for n in ("p", "q", "r", "s", "t")]
    await asyncio.sleep(0.01)
    print("n_waiting:", barrier.n_waiting)
    tasks.append(asyncio.create_task(worker("u", barrier, 1, log)))
    for t in tasks:
        await t
    print(log)

    # async with gives the index.
    barrier = asyncio.Barrier(2)

    async def entering(name):
        async with barrier as index:
            print(name, "entered with", index)

    await asyncio.gather(entering("x"), entering("y"))

    # A barrier of one never waits.
    one = asyncio.Barrier(1)
    print("barrier of one:", await one.wait(), await one.wait())

    for bad in (0, -1):
        try:
            asyncio.Barrier(bad)
        except ValueError as e:
            print("ValueError:", e)
    print(issubclass(asyncio.BrokenBarrierError, RuntimeError))
    print("done")


asyncio.run(main())
