# create_task() rejects things that are not coroutines with TypeError,
# and the loop keeps working afterwards.
import asyncio


async def coro_fn():
    return "ok"


async def main():
    for label, arg in (("int", 42), ("None", None), ("function", coro_fn), ("str", "x")):
        try:
            asyncio.create_task(arg)
            print(label, "accepted?")
        except TypeError as e:
            print(label, "->", type(e).__name__)
    t = asyncio.create_task(coro_fn())
    print("real coroutine still works:", await t)
    print("done")


asyncio.run(main())
