# `await` inside a plain `def` makes the function a generator, as `yield from` would.
# (MicroPython's dialect; CPython rejects it, so this is an mp_ script.)
import asyncio


def ticks(n):
    # A plain generator: what `await` in a plain def delegates to.
    for i in range(n):
        yield i
    return "ticked %d" % n


def relay(n):
    r = await ticks(n)
    return r.upper()


g = relay(2)
print(type(g).__name__)
out = []
try:
    while True:
        out.append(g.send(None))
except StopIteration as e:
    out.append(e.value)
print(out)


# The library idiom: an awaitable whose __await__ is a plain def that awaits,
# exposed as __iter__ too.
class Gate:
    def __init__(self):
        self._evt = asyncio.Event()
        self.value = None

    def open(self, value):
        self.value = value
        self._evt.set()

    def __await__(self):
        await self._evt.wait()
        return self.value

    __iter__ = __await__


async def waiter(name, gate):
    print(name, "waits")
    v = await gate
    print(name, "got", v)
    return v


async def main():
    gate = Gate()
    t1 = asyncio.create_task(waiter("a", gate))
    t2 = asyncio.create_task(waiter("b", gate))
    await asyncio.sleep(0)
    print("opening")
    gate.open(42)
    print(await t1, await t2)
    # A plain def that awaits a coroutine, awaited from a coroutine.
    def helper(x):
        y = await asyncio.sleep(0)
        return x * 2, y
    print(await helper(21))
    # await inside a lambda makes a generator lambda (its return value differs:
    # MicroPython's generator lambdas return None, CPython's the body's value).
    f = lambda: await helper(5)
    print(type(f()).__name__)
    await f()
    # await in a def nested in an async def: the inner def is a generator.
    def inner():
        await asyncio.sleep_ms(1)
        return "inner done"
    print(await inner())


asyncio.run(main())
