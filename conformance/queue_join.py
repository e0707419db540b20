# Queue.join() and task_done(): join waits until every item put has been marked done; the
# last task_done wakes every joiner, oldest first; a put after that makes later joins wait
# again; a cancelled joiner leaves the others waiting.
import asyncio


async def joiner(name, q, log):
    try:
        await q.join()
        log.append(f"{name} joined")
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise


async def worker(name, q, log):
    while True:
        item = await q.get()
        log.append(f"{name} working on {item}")
        await asyncio.sleep(0)
        log.append(f"{name} done with {item}")
        q.task_done()


async def main():
    log = []
    q = asyncio.Queue()
    # Nothing put: join returns at once, without a step.
    await q.join()
    print("empty join returned", str(q))

    for i in range(5):
        q.put_nowait(i)
    workers = [asyncio.create_task(worker(f"W{i}", q, log)) for i in range(2)]
    joiners = [asyncio.create_task(joiner(f"J{i}", q, log)) for i in range(3)]
    await asyncio.sleep(0)
    joiners[1].cancel()
    await q.join()
    log.append("main joined")
    for t in joiners:
        try:
            await t
        except asyncio.CancelledError:
            pass
    for line in log:
        print(" ", line)
    log.clear()
    print(str(q))
    for w in workers:
        w.cancel()
    for w in workers:
        try:
            await w
        except asyncio.CancelledError:
            pass
    print("workers cancelled:", str(q))

    # task_done before the get: allowed, join follows the count.
    q.put_nowait("a")
    q.put_nowait("b")
    j = asyncio.create_task(joiner("J", q, log))
    await asyncio.sleep(0)
    q.task_done()
    print("one done:", str(q))
    q.task_done()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print(log, str(q))
    log.clear()
    await j
    print(str(q))
    try:
        q.task_done()
    except ValueError as e:
        print("ValueError", e)

    # A joiner woken by the last task_done returns even if an item is put before it runs.
    q = asyncio.Queue()
    q.put_nowait(1)
    j = asyncio.create_task(joiner("J", q, log))
    await asyncio.sleep(0)
    q.get_nowait()
    q.task_done()
    q.put_nowait(2)
    await j
    print(log, str(q))
    log.clear()
    # ...and a new join waits for the new item.
    j = asyncio.create_task(joiner("J2", q, log))
    await asyncio.sleep(0)
    print(log, j.done())
    q.get_nowait()
    q.task_done()
    await j
    print(log)
    print("done")


asyncio.run(main())
