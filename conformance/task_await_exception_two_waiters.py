# Two tasks awaiting the same failing task both receive the exception, in
# the order they started waiting.
import asyncio


async def fail():
    await asyncio.sleep(0.01)
    raise KeyError("k")


async def waiter(name, t):
    try:
        await t
        print(name, "no exception?")
    except KeyError as e:
        print(name, "got", type(e).__name__, e.args)
        return e


async def main():
    t = asyncio.create_task(fail())
    w1 = asyncio.create_task(waiter("w1", t))
    w2 = asyncio.create_task(waiter("w2", t))
    e1 = await w1
    e2 = await w2
    print("same object:", e1 is e2)
    print("failing task done:", t.done())
    print("done")


asyncio.run(main())
