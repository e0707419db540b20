# A gather child that fails after the gather has already raised is nobody's: the loop's
# exception handler hears of it.
import asyncio


def handler(loop, context):
    e = context["exception"]
    print("handler:", context["message"], type(e).__name__, e.args)


async def fail(name, steps):
    for _ in range(steps):
        await asyncio.sleep(0)
    print(name, "raises")
    raise ValueError(name)


async def main():
    asyncio.get_event_loop().set_exception_handler(handler)
    try:
        await asyncio.gather(fail("first", 0), fail("second", 2))
    except ValueError as e:
        print("gather raised", e.args)
    for _ in range(4):
        await asyncio.sleep(0)
    print("done")


asyncio.run(main())
