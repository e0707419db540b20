# asyncio.ThreadSafeFlag subclassed as a well-known library's Message class is:
# attributes set before super().__init__(), set(data) and wait() overridden and
# calling the base's, other waiters parked on an Event, `await msg` through
# __iter__, set from micropython.schedule; and an Event-based variant with a
# flag inside and `async for`.
import asyncio
import micropython


class Note(asyncio.ThreadSafeFlag):
    def __init__(self, _poll=0):
        self._evt = asyncio.Event()
        self._data = None
        self._first = False  # a task waits on the flag itself
        self._is_set = False
        super().__init__()

    def clear(self):
        self._first = False
        self._is_set = False

    def __iter__(self):
        yield from self.wait()
        return self._data

    async def wait(self):
        if self._first:
            await self._evt.wait()
        else:
            self._first = True
            await asyncio.sleep_ms(0)
            await super().wait()
            self._evt.set()
            self._evt.clear()
        return self._data

    def set(self, data=None):
        self._data = data
        self._is_set = True
        super().set()

    def is_set(self):
        return self._is_set

    def value(self):
        return self._data


class Relay(asyncio.Event):
    # An Event that a flag (set from an interrupt) feeds; iterated with `async for`.
    def __init__(self):
        super().__init__()
        self._flag = asyncio.ThreadSafeFlag()
        self._data = None
        self._pumping = False

    async def wait(self):
        if not self._pumping:
            self._pumping = True
            await self._flag.wait()
            super().set()
            self._pumping = False
        else:
            await super().wait()
        return self._data

    def set(self, data=None):
        self._data = data
        self._flag.set()

    def __aiter__(self):
        return self

    async def __anext__(self):
        data = await self.wait()
        super().clear()
        if data is None:
            raise StopAsyncIteration
        return data


class Knob(asyncio.ThreadSafeFlag):
    # The base's __init__ called by name; a method of its own calling self.set().
    def __init__(self):
        asyncio.ThreadSafeFlag.__init__(self)
        self.clockwise = True

    def turn(self, clockwise):
        self.clockwise = clockwise
        self.set()


async def listener(msg, tag):
    got = await msg
    print(tag, "got", got, msg.is_set())


async def main():
    msg = Note()
    print(type(msg).__name__, isinstance(msg, asyncio.ThreadSafeFlag), msg.is_set())
    tasks = [asyncio.create_task(listener(msg, t)) for t in ("a", "b", "c")]
    await asyncio.sleep_ms(20)
    msg.set("first")
    for t in tasks:
        await t
    msg.clear()
    print("value", msg.value(), msg.is_set())

    # Set from a scheduled callback, as from an interrupt handler.
    t = asyncio.create_task(listener(msg, "d"))
    await asyncio.sleep_ms(20)
    micropython.schedule(msg.set, "from schedule")
    await t
    msg.clear()

    # The base methods still work on the subclass.
    asyncio.ThreadSafeFlag.set(msg)
    await asyncio.ThreadSafeFlag.wait(msg)
    print("base wait returned")

    knob = Knob()

    async def watch():
        for _ in range(2):
            await knob.wait()
            print("knob turned", "cw" if knob.clockwise else "ccw")

    w = asyncio.create_task(watch())
    await asyncio.sleep_ms(10)
    micropython.schedule(knob.turn, False)
    await asyncio.sleep_ms(10)
    knob.turn(True)
    await w

    relay = Relay()
    got = []

    async def consume():
        async for item in relay:
            got.append(item)
        print("consumed", got)

    c = asyncio.create_task(consume())
    for item in ("x", "y", None):
        await asyncio.sleep_ms(20)
        micropython.schedule(relay.set, item)
    await c

    try:
        asyncio.ThreadSafeFlag(1)
    except TypeError as er:
        print("TypeError", er)
    class Bare(asyncio.ThreadSafeFlag):
        pass

    try:
        Bare(1)
    except TypeError as er:
        print("TypeError", er)
    print("done")


asyncio.run(main())
