# wait_for runs the awaitable through a helper task: the result reaches the caller one
# scheduling round after the awaitable ends, and a wait_for cancelled a few steps after it
# started lets the awaitable start (and sometimes finish) first.
import asyncio


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep(0)


async def work(name, steps):
    print(name, "start")
    for _ in range(steps):
        await asyncio.sleep(0)
    print(name, "end")
    return name


async def waiter(name, steps):
    try:
        print(name, "->", await asyncio.wait_for(work(name, steps), 10))
    except asyncio.CancelledError:
        print(name, "cancelled")


async def main():
    t = asyncio.create_task(ticker(8))
    print("result", await asyncio.wait_for(work("w", 2), 10))
    await t
    for k in range(5):
        print("-- cancel after", k)
        w = asyncio.create_task(waiter("c%d" % k, 1))
        for _ in range(k):
            await asyncio.sleep(0)
        print("cancel", w.cancel())
        for _ in range(4):
            await asyncio.sleep(0)
    print("done")


asyncio.run(main())
