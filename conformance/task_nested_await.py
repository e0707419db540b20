# A chain of tasks awaiting each other unwinds innermost first, each one
# receiving the value of the one below it.
import asyncio


async def level(n):
    print("enter", n)
    if n == 0:
        await asyncio.sleep(0.01)
        r = 0
    else:
        t = asyncio.create_task(level(n - 1))
        r = await t + 1
    print("leave", n, "->", r)
    return r


async def main():
    print("result", await level(4))
    # Awaiting a plain coroutine (no task) runs it inline.
    print("inline", await level(0))
    print("done")


asyncio.run(main())
