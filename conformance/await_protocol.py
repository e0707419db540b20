# The __await__ protocol on asyncio's own awaitables: what it is, awaiting through a wrapper
# class that forwards __await__(), delegating with `yield from`, and a bound __await__ kept
# while other awaits run.
import asyncio


class Forward:
    def __init__(self, aw):
        self.aw = aw

    def __await__(self):
        return self.aw.__await__()


class Doubled:
    def __init__(self, aw):
        self.aw = aw

    def __await__(self):
        value = yield from self.aw.__await__()
        return value * 2


class Later:
    """Awaits a bound __await__ taken earlier."""

    def __init__(self, bound):
        self.bound = bound

    def __await__(self):
        return self.bound()


async def value(v):
    await asyncio.sleep(0)
    return v


async def main():
    ev = asyncio.Event()
    lock = asyncio.Lock()
    task = asyncio.create_task(value(1))
    awaitables = [asyncio.sleep(0), task, ev.wait(), lock.acquire(), asyncio.gather(), asyncio.wait_for(value(2), 1)]
    for aw in awaitables:
        print(type(aw.__await__).__name__, callable(aw), callable(aw.__await__))
    for aw in awaitables[2:]:
        if hasattr(aw, "close"):
            aw.close()
    if lock.locked():
        lock.release()
    print(await task)

    print(await Forward(asyncio.sleep(0)))
    print(await Forward(asyncio.create_task(value(3))))
    print(await Doubled(asyncio.create_task(value(4))))
    print(await Doubled(asyncio.gather(value(5))))

    first = asyncio.create_task(value(6))
    bound = first.__await__
    await asyncio.create_task(value(7))
    await asyncio.sleep(0)
    print(await Later(bound))

    try:
        asyncio.sleep(0).__await__(1)
    except TypeError:
        print("TypeError for an argument to __await__")
    try:
        asyncio.sleep()
    except TypeError:
        print("TypeError for sleep without a delay")


asyncio.run(main())
