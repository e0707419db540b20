# A task waiting on an Event blocks until another task sets it; wait()
# then returns True.
import asyncio


async def waiter(ev):
    print("waiter: waiting")
    r = await ev.wait()
    print("waiter: woke, wait() returned", r)
    return r


async def setter(ev):
    await asyncio.sleep(0.02)
    print("setter: setting")
    ev.set()
    print("setter: set done, is_set =", ev.is_set())


async def main():
    ev = asyncio.Event()
    print("initial is_set:", ev.is_set())
    tw = asyncio.create_task(waiter(ev))
    ts = asyncio.create_task(setter(ev))
    await asyncio.sleep(0.01)
    print("main: waiter done?", tw.done())
    r = await tw
    await ts
    print("result", r)
    print("done")


asyncio.run(main())
