# `await` accepts a generator object and an object whose class defines `__iter__`
# (a generator function, or returning an iterator), as MicroPython's `await`
# is `yield from`. CPython raises TypeError for these, so this is an mp_ script.
import asyncio


def pause(n):
    # a plain generator; yield from asyncio's sleep suspends the task
    for _ in range(n):
        yield from asyncio.sleep(0)
    return "paused %d" % n


class Waiter:
    # only __iter__, written as a generator function
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        r = yield from pause(self.n)
        return "waiter: " + r


class Delegate:
    # only __iter__, returning a generator object
    def __iter__(self):
        return pause(1)


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep(0)


async def main():
    asyncio.create_task(ticker(3))
    print(await pause(2))
    print(await Waiter(1))
    # a generator awaited from a task created on it
    print(await asyncio.create_task(pause(1)))
    print(await Delegate())
    print(await asyncio.gather(pause(1), pause(0)))
    # exceptions propagate out of an awaited generator
    def failing():
        yield from asyncio.sleep(0)
        raise ValueError("from generator")
    try:
        await failing()
    except ValueError as e:
        print("caught", e.args[0])
    # objects that are neither awaitable nor iterable still raise TypeError
    try:
        await 5
    except TypeError:
        print("TypeError for int")


asyncio.run(main())
