# CPython's BoundedSemaphore refuses a release beyond its initial value; Semaphore does not.
# Both are subclassable, and `async with` calls a subclass's acquire() and release().
import asyncio


class Counting(asyncio.Semaphore):
    def __init__(self, value):
        super().__init__(value)
        self.calls = []

    async def acquire(self):
        self.calls.append("acquire")
        return await super().acquire()

    def release(self):
        self.calls.append("release")
        super().release()


async def main():
    b = asyncio.BoundedSemaphore(2)
    print(isinstance(b, asyncio.Semaphore), issubclass(asyncio.BoundedSemaphore, asyncio.Semaphore))
    print(type(b).__name__, asyncio.Semaphore.__name__)
    try:
        b.release()
    except ValueError as e:
        print("ValueError:", e)
    await b.acquire()
    await b.acquire()
    print("locked:", b.locked())
    b.release()
    b.release()
    try:
        b.release()
    except ValueError as e:
        print("ValueError:", e)
    print("locked:", b.locked())

    # Over-release through async with.
    b = asyncio.BoundedSemaphore(1)
    try:
        async with b:
            b.release()
    except ValueError as e:
        print("ValueError from __aexit__:", e)

    try:
        asyncio.BoundedSemaphore(-2)
    except ValueError as e:
        print("ValueError:", e)

    # A plain Semaphore may be released beyond its initial value.
    s = asyncio.Semaphore(0)
    s.release()
    s.release()
    print(await s.acquire(), await s.acquire(), s.locked())

    # BoundedSemaphore with a waiter: a unit handed to the waiter is off the count, so a second
    # release passes the bound check then, and the waiter's own release is refused.
    b = asyncio.BoundedSemaphore(1)
    await b.acquire()

    async def waiter():
        print("waiter acquired:", await b.acquire())
        try:
            b.release()
        except ValueError as e:
            print("ValueError in the waiter:", e)

    t = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    b.release()
    b.release()
    print("released twice while the waiter has not run; locked:", b.locked())
    await t
    print("locked:", b.locked())

    c = Counting(1)
    c.tag = "x"
    async with c:
        print("inside; locked:", c.locked())
    print(c.calls, c.tag, c.locked())
    print("done")


asyncio.run(main())
