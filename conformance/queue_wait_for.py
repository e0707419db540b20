# wait_for with a timeout around Queue.get() and Queue.put(): a get that times out leaves the
# queue as it was (no item lost, no getter left behind); one that is served in time returns
# the item; the same for a put on a full queue.
import asyncio


async def put_later(q, delay, item):
    await asyncio.sleep(delay)
    q.put_nowait(item)
    print("put", item, "at", delay)


async def main():
    q = asyncio.Queue()
    try:
        await asyncio.wait_for(q.get(), 0.02)
    except asyncio.TimeoutError:
        print("get timed out:", str(q))

    t = asyncio.create_task(put_later(q, 0.02, "late"))
    print("got", await asyncio.wait_for(q.get(), 0.2), str(q))
    await t

    # A getter that times out while others wait: the next put goes to those still waiting.
    async def waiting_getter(name, timeout):
        try:
            item = await asyncio.wait_for(q.get(), timeout)
            print(name, "got", item)
        except asyncio.TimeoutError:
            print(name, "timed out")

    tasks = [
        asyncio.create_task(waiting_getter("A", 0.02)),
        asyncio.create_task(waiting_getter("B", 0.2)),
        asyncio.create_task(waiting_getter("C", 0.06)),
    ]
    await asyncio.sleep(0.04)
    print("after A's timeout:", q.qsize(), q.empty())
    q.put_nowait("one")
    await asyncio.sleep(0.05)
    print("after C's timeout:", q.qsize(), q.empty())
    for t in tasks:
        await t
    print(str(q))

    # Items put while nobody waits stay for the next get, whatever timed out before.
    for i in range(3):
        try:
            await asyncio.wait_for(q.get(), 0.01)
        except asyncio.TimeoutError:
            print("timed out", i)
    q.put_nowait("kept")
    print(await asyncio.wait_for(q.get(), 0.01), str(q))

    # put on a full queue with a timeout.
    q = asyncio.Queue(1)
    q.put_nowait("first")
    try:
        await asyncio.wait_for(q.put("second"), 0.02)
    except asyncio.TimeoutError:
        print("put timed out:", str(q))

    async def get_later(delay):
        await asyncio.sleep(delay)
        print("get", q.get_nowait(), "at", delay)

    t = asyncio.create_task(get_later(0.02))
    await asyncio.wait_for(q.put("third"), 0.2)
    print("put done:", str(q))
    await t

    # A timeout of None waits as long as it takes.
    t = asyncio.create_task(put_later(q, 0.02, "none"))
    print(q.get_nowait())
    await t
    print(await asyncio.wait_for(q.get(), None), str(q))
    print("done")


asyncio.run(main())
