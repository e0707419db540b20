# asyncio.Lock subclassed: attributes, acquire() and release() overridden and
# calling the base's, `async with` calling the overrides (MicroPython's
# __aenter__/__aexit__ call them by name), a release() whose true result
# suppresses the exception, a waiter cancelled after the lock was handed to it
# (the override is called to pass it on), and a subclass with its own
# __aenter__/__aexit__.
import asyncio


class CountingLock(asyncio.Lock):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.acquisitions = 0
        self.releases = 0

    async def acquire(self):
        print(self.name, "acquire", self.locked())
        await super().acquire()
        self.acquisitions += 1
        return "acquired"

    def release(self):
        self.releases += 1
        print(self.name, "release")
        super().release()


class Swallowing(asyncio.Lock):
    # release() returning True: `async with` swallows the exception, since
    # MicroPython's __aexit__ returns release()'s result.
    def release(self):
        super().release()
        return True


class Gate(asyncio.Lock):
    def __init__(self):
        super().__init__()
        self.entered = asyncio.Event()
        self.entries = 0

    async def __aenter__(self):
        await self.acquire()
        self.entries += 1
        self.entered.set()
        return self

    async def __aexit__(self, *exc):
        self.release()
        return False


class Quiet(asyncio.Lock):
    pass


async def worker(lock, n, log):
    async with lock as got:
        log.append((n, got))
        await asyncio.sleep_ms(10)


async def main():
    lock = CountingLock("L")
    print(type(lock).__name__, isinstance(lock, asyncio.Lock), lock.locked())
    log = []
    await asyncio.gather(*(worker(lock, n, log) for n in range(3)))
    print(log)
    print("counts", lock.acquisitions, lock.releases, lock.locked())

    print("acquire() gave", await lock.acquire(), lock.locked())
    lock.release()
    try:
        lock.release()
    except RuntimeError as er:
        print("RuntimeError", er)

    s = Swallowing()
    async with s:
        raise ValueError("swallowed")
    print("after swallow", s.locked())

    g = Gate()
    async with g as entered:
        print("gate entered", entered is g, g.entries, g.entered.is_set(), g.locked())
    print("gate left", g.locked())

    # A waiter cancelled after release() handed it the lock: MicroPython's
    # acquire() calls self.release(), the override, to pass the lock on.
    lock2 = CountingLock("M")
    await lock2.acquire()

    async def waiter(tag):
        try:
            async with lock2:
                print(tag, "holds M")
        except asyncio.CancelledError:
            print(tag, "cancelled")

    b = asyncio.create_task(waiter("B"))
    c = asyncio.create_task(waiter("C"))
    await asyncio.sleep_ms(10)
    lock2.release()
    b.cancel()
    await b
    await c
    print("M counts", lock2.acquisitions, lock2.releases, lock2.locked())

    q = Quiet()
    async with q:
        print("quiet locked", q.locked())
    q.tag = "t"
    print(q.tag, q.locked())
    q2 = asyncio.Lock()
    q2.owner = "me"
    print(q2.owner)

    class Forgetful(asyncio.Lock):
        def acquire(self):  # not async: nothing to await
            return 5

    try:
        async with Forgetful():
            print("not reached")
    except TypeError as er:
        print("TypeError", er)

    class Failing(asyncio.Lock):
        def release(self):
            super().release()
            raise ValueError("release failed")

    f = Failing()
    try:
        async with f:
            print("failing locked", f.locked())
    except ValueError as er:
        print("ValueError", er, f.locked())

    try:
        asyncio.Lock(1)
    except TypeError as er:
        print("TypeError", er)
    print("done")


asyncio.run(main())
