# Awaiting a task returns the coroutine's return value; awaiting the same
# finished task again returns the same value again.
import asyncio


async def compute(x):
    await asyncio.sleep(0)
    return x * 10


async def give_list():
    return [1, 2, 3]


async def give_none():
    await asyncio.sleep(0)


async def main():
    t = asyncio.create_task(compute(4))
    print("first await", await t)
    print("second await", await t)
    print("third await", await t)
    lt = asyncio.create_task(give_list())
    a = await lt
    b = await lt
    print(a, b, "same object:", a is b)
    nt = asyncio.create_task(give_none())
    print("none result", await nt)
    # A task that is already finished before it is first awaited.
    ft = asyncio.create_task(compute(7))
    await asyncio.sleep(0.01)
    print("finished before await:", ft.done())
    print("late await", await ft, await ft)
    print("done")


asyncio.run(main())
