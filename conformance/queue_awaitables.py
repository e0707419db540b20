# What Queue.get(), put() and join() return is awaited in the ways programs await coroutines:
# directly, as a task, in gather, in wait_for; awaiting one a second time is an error.
import asyncio


async def main():
    q = asyncio.Queue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    print([t.done() for t in getters], str(q))
    await asyncio.gather(q.put("a"), q.put("b"), q.put("c"))
    print(await asyncio.gather(*getters), str(q))

    # gather of gets parks them all; puts feed them in order.
    async def feed():
        for i in range(3):
            await asyncio.sleep(0)
            q.put_nowait(i)

    results = await asyncio.gather(q.get(), q.get(), q.get(), feed())
    print(results, str(q))

    # A task made from put() on a full queue.
    q = asyncio.Queue(1)
    await q.put(1)
    t = asyncio.create_task(q.put(2))
    await asyncio.sleep(0)
    print(t.done(), str(q))
    print(await q.get(), await t, str(q))

    # Cancelling a task made from get().
    t = asyncio.create_task(asyncio.Queue().get())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("get task cancelled", t.cancelled())

    # Awaiting the same awaitable twice.
    q = asyncio.Queue()
    q.put_nowait(1)
    g = q.get()
    print(await g)
    try:
        await g
    except RuntimeError as e:
        print("RuntimeError", e)
    p = q.put(2)
    await p
    try:
        await p
    except RuntimeError as e:
        print("RuntimeError", e)
    q.get_nowait()
    q.task_done()
    q.task_done()
    j = q.join()
    await j
    try:
        await j
    except RuntimeError as e:
        print("RuntimeError", e)

    # join as a task, with task_done from another task.
    q.put_nowait("x")
    jt = asyncio.create_task(q.join())
    await asyncio.sleep(0)
    print(jt.done())
    q.get_nowait()
    q.task_done()
    await jt
    print(jt.done(), jt.result())
    print(str(q))
    print("done")


asyncio.run(main())
