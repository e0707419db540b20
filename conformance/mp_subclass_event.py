# asyncio.Event subclassed as MicroPython programs do: an __init__ of its own with
# extra arguments calling super().__init__(), attributes, set() and wait()
# overridden and calling the base's, instances made awaitable with
# __iter__/__await__, and errors worded as MicroPython words them.
import asyncio


class Mailbox(asyncio.Event):
    def __init__(self, name, capacity=1):
        self.name = name  # before the base's __init__, as some libraries do
        super().__init__()
        self.capacity = capacity
        self.payload = None
        self.sets = 0

    def set(self, payload=None):
        self.payload = payload
        self.sets += 1
        super().set()

    def clear(self):
        self.payload = None
        super().clear()

    async def wait(self):
        await super().wait()
        return self.payload

    # `await box` gives the payload (a plain def holding `yield from`).
    def __iter__(self):
        yield from super().wait()
        return self.payload

    def __repr__(self):
        return "<Mailbox %s>" % self.name


class Doorbell(asyncio.Event):
    # `await bell` through __await__ written with `await`, MicroPython's dialect.
    def __await__(self):
        await super().wait()
        return "rung"

    __iter__ = __await__


class Plain(asyncio.Event):
    pass


async def reader(box, tag):
    got = await box
    print(tag, "got", got)


async def main():
    box = Mailbox("m1", capacity=4)
    print(type(box).__name__, box.name, box.capacity, box.is_set(), repr(box))
    print(isinstance(box, asyncio.Event), issubclass(Mailbox, asyncio.Event))
    box.extra = [1, 2]
    print(box.extra, "extra" in box.__dict__, "name" in box.__dict__)

    t1 = asyncio.create_task(reader(box, "r1"))
    t2 = asyncio.create_task(reader(box, "r2"))
    await asyncio.sleep_ms(10)
    print("set", box.set("hello"), box.is_set(), box.sets)
    await t1
    await t2

    box.clear()
    print("cleared", box.is_set(), box.payload)

    async def waiter():
        print("wait() gave", await box.wait())

    t = asyncio.create_task(waiter())
    await asyncio.sleep_ms(10)
    box.set(42)
    await t

    # wait_for over the overridden wait().
    box.clear()
    try:
        await asyncio.wait_for(box.wait(), 0.02)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    box.set("late")
    print("wait_for:", await asyncio.wait_for(box.wait(), 1))

    bell = Doorbell()

    async def ring():
        await asyncio.sleep_ms(10)
        bell.set()

    asyncio.create_task(ring())
    print("doorbell:", await bell)
    print("doorbell again:", await bell)

    p = Plain()
    p.set()
    print("plain:", await p.wait(), p.is_set())
    p.__init__()
    print("plain re-initialised:", p.is_set())

    # A plain Event takes attributes too, as MicroPython's does.
    e = asyncio.Event()
    e.note = "kept"
    print(e.note)

    for make in (
        lambda: asyncio.Event(1),
        lambda: asyncio.Event(x=1),
        lambda: Plain(1, 2),
    ):
        try:
            make()
        except TypeError as er:
            print("TypeError", er)

    class Bad(asyncio.Event):
        def __init__(self):
            super().__init__(5)

    try:
        Bad()
    except TypeError as er:
        print("TypeError", er)
    try:
        Plain().missing
    except AttributeError:
        print("AttributeError")
    print("done")


asyncio.run(main())
