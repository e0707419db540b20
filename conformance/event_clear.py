# Event.clear() resets the flag: is_set() goes False and wait() blocks
# again until the next set().
import asyncio


async def waiter(ev, log):
    r = await ev.wait()
    log.append("woke")
    return r


async def main():
    ev = asyncio.Event()
    print("new:", ev.is_set())
    ev.set()
    print("after set:", ev.is_set())
    ev.clear()
    print("after clear:", ev.is_set())
    ev.clear()
    print("after second clear:", ev.is_set())
    log = []
    t = asyncio.create_task(waiter(ev, log))
    await asyncio.sleep(0.02)
    print("waiter still blocked:", not t.done(), log)
    ev.set()
    ev.clear()
    print("set then clear immediately, is_set:", ev.is_set())
    r = await t
    print("waiter woke anyway:", r, log)
    print("done")


asyncio.run(main())
