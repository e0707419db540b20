# ThreadSafeFlag.set() called from a micropython.schedule() callback wakes
# a task blocked in wait(); the callback runs between task steps, outside
# any task, with the argument given to schedule().
import asyncio
import micropython

flag = asyncio.ThreadSafeFlag()
log = []


def callback(arg):
    log.append(arg)
    flag.set()


async def waiter():
    print("waiter: waiting")
    await flag.wait()
    print("waiter: woke, log =", log)
    return "woken"


async def main():
    t = asyncio.create_task(waiter())
    await asyncio.sleep_ms(20)
    print("main: waiter still blocked:", not t.done())
    micropython.schedule(callback, 7)
    print("main: scheduled")
    r = await t
    print("main: waiter returned", r)
    micropython.schedule(callback, 8)
    await asyncio.sleep_ms(10)
    print("second callback ran:", log)
    await flag.wait()
    print("flag set by second callback was pending")
    print("done")


asyncio.run(main())
