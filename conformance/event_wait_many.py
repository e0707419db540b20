# Event.set() wakes every waiter, in the order they started waiting, and
# they run after the setter yields.
import asyncio

woken = []


async def waiter(name, ev):
    await ev.wait()
    woken.append(name)
    print("woke", name)


async def main():
    ev = asyncio.Event()
    names = ["w0", "w1", "w2", "w3", "w4"]
    tasks = [asyncio.create_task(waiter(n, ev)) for n in names]
    await asyncio.sleep(0.01)
    print("nobody woke yet:", woken)
    ev.set()
    print("set returned, woken so far:", woken)
    await asyncio.sleep(0)
    print("after yield:", woken)
    for t in tasks:
        await t
    print("fifo:", woken == names)
    print("done")


asyncio.run(main())
