# A task may catch CancelledError and return normally: awaiting it then
# gives the returned value and no exception.
import asyncio


async def stubborn():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("stubborn: caught cancel, returning value")
        return "graceful"
    return "normal"


async def main():
    t = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)
    print("cancel ->", t.cancel())
    try:
        r = await t
        print("await returned", r)
    except asyncio.CancelledError:
        print("unexpected CancelledError")
    print("done() =", t.done())
    print("await again", await t)
    print("done")


asyncio.run(main())
