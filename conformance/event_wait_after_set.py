# wait() on an Event that is already set returns True at once, any number
# of times, and from any number of tasks.
import asyncio


async def quick(name, ev):
    r = await ev.wait()
    print(name, "returned", r)


async def main():
    ev = asyncio.Event()
    ev.set()
    print("is_set:", ev.is_set())
    for i in range(3):
        print("wait", i, "->", await ev.wait())
    ts = [asyncio.create_task(quick("t%d" % i, ev)) for i in range(3)]
    for t in ts:
        await t
    ev.set()
    print("set again, is_set:", ev.is_set())
    print("done")


asyncio.run(main())
