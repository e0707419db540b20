# Cancelling a task blocked in Event.wait() removes it from the event:
# it gets CancelledError, and a later set() wakes only the other waiters.
import asyncio


async def waiter(name, ev):
    try:
        await ev.wait()
        print(name, "woke")
        return name
    except asyncio.CancelledError:
        print(name, "cancelled while waiting")
        raise


async def main():
    ev = asyncio.Event()
    t1 = asyncio.create_task(waiter("w1", ev))
    t2 = asyncio.create_task(waiter("w2", ev))
    t3 = asyncio.create_task(waiter("w3", ev))
    await asyncio.sleep(0.01)
    print("cancel w2 ->", t2.cancel())
    try:
        await t2
    except asyncio.CancelledError:
        print("main: w2 raised CancelledError")
    print("event set?", ev.is_set())
    ev.set()
    print("results", await t1, await t3)
    print("done")


asyncio.run(main())
