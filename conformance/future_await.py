# Awaiting asyncio.Future: several tasks on one future, results, exceptions, cancelled
# futures, futures already done, and the order tasks wake in.
import asyncio


async def waiter(name, fut):
    print(name, "waits")
    try:
        value = await fut
        print(name, "got", value)
        return value
    except asyncio.CancelledError as e:
        print(name, "cancelled", e.args)
        raise
    except Exception as e:
        print(name, "raised", type(e).__name__, e.args)
        return "error"


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep(0)


async def main():
    loop = asyncio.get_running_loop()

    # Three tasks await one future; set_result wakes them in the order they began waiting,
    # interleaved with a task already running.
    fut = loop.create_future()
    tasks = [asyncio.create_task(waiter(n, fut)) for n in ("a", "b", "c")]
    tick = asyncio.create_task(ticker(4))
    await asyncio.sleep(0)
    print("setting result")
    fut.set_result(7)
    print("set")
    print([await t for t in tasks])
    await tick

    # An exception reaches every waiter.
    fut = loop.create_future()
    tasks = [asyncio.create_task(waiter(n, fut)) for n in ("d", "e")]
    await asyncio.sleep(0)
    fut.set_exception(ValueError("boom"))
    print([await t for t in tasks])

    # A cancelled future: its waiters get CancelledError with the message.
    fut = loop.create_future()
    tasks = [asyncio.create_task(waiter(n, fut)) for n in ("f", "g")]
    await asyncio.sleep(0)
    print(fut.cancel("gone"))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print([type(r).__name__ for r in results], [t.cancelled() for t in tasks])

    # Awaiting a finished future gives its result without a trip through the loop.
    fut = loop.create_future()
    fut.set_result("ready")
    tick = asyncio.create_task(ticker(2))
    print("await done future", await fut)
    print("await done future again", await fut)
    await tick

    # A future cancelled before anybody awaits it.
    fut = loop.create_future()
    fut.cancel()
    try:
        await fut
    except asyncio.CancelledError as e:
        print("awaited cancelled future", e.args)

    # set_result from a call_soon callback wakes the waiter.
    fut = loop.create_future()
    loop.call_soon(fut.set_result, "from callback")
    print(await fut)

    # yield from in a generator-based awaitable's __await__.
    class Wrapper:
        def __init__(self, fut):
            self.fut = fut

        def __await__(self):
            value = yield from self.fut
            return ("wrapped", value)

    fut = loop.create_future()
    loop.call_soon(fut.set_result, 3)
    print(await Wrapper(fut))
    print("done")


asyncio.run(main())
