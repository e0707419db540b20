# A task blocked on ThreadSafeFlag.wait() can be cancelled; a later set()
# is then kept for the next waiter.
import asyncio


async def waiter(flag, name):
    try:
        await flag.wait()
        print(name, "woke")
    except asyncio.CancelledError:
        print(name, "cancelled")
        raise


async def main():
    flag = asyncio.ThreadSafeFlag()
    t = asyncio.create_task(waiter(flag, "first"))
    await asyncio.sleep_ms(10)
    print("cancel ->", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("main: first raised CancelledError")
    flag.set()
    await asyncio.sleep_ms(10)
    t2 = asyncio.create_task(waiter(flag, "second"))
    await t2
    print("done")


asyncio.run(main())
