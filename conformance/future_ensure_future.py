# asyncio.ensure_future: futures and tasks as they are, coroutines and awaitables as tasks,
# anything else refused with CPython's TypeError.
import asyncio


async def coro(x):
    await asyncio.sleep(0)
    return x * 2


class Awaitable:
    def __await__(self):
        yield from asyncio.sleep(0).__await__()
        return "awaitable result"


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    print(asyncio.ensure_future(fut) is fut)
    print(asyncio.ensure_future(fut, loop=loop) is fut)

    task = asyncio.ensure_future(coro(21))
    print(isinstance(task, asyncio.Task), asyncio.isfuture(task))
    print(asyncio.ensure_future(task) is task)
    print(await task)

    wrapped = asyncio.ensure_future(Awaitable())
    print(asyncio.isfuture(wrapped))
    print(await wrapped)

    for call in [lambda: asyncio.ensure_future(), lambda: asyncio.ensure_future(fut, fut)]:
        try:
            call()
        except TypeError as e:
            print("TypeError", e)
    for bad in [1, "text", None]:
        try:
            asyncio.ensure_future(bad)
        except TypeError as e:
            print("TypeError", e)

    # A future made by hand and completed by a task.
    async def complete_later(f):
        await asyncio.sleep(0)
        f.set_result("completed")

    t = asyncio.create_task(complete_later(fut))
    print(await asyncio.ensure_future(fut))
    await t
    print("done")


asyncio.run(main())
