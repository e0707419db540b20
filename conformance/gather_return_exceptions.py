# gather(..., return_exceptions=True) puts raised exceptions into the result
# list in place of values, and waits for everything.
import asyncio


async def ok(v, ms):
    await asyncio.sleep(ms / 1000)
    return v


async def fail(exc, ms):
    await asyncio.sleep(ms / 1000)
    raise exc


async def main():
    res = await asyncio.gather(
        ok("first", 30),
        fail(ValueError("bad value", 1), 10),
        ok("third", 0),
        fail(KeyError("missing"), 20),
        return_exceptions=True,
    )
    print("length:", len(res))
    for x in res:
        if isinstance(x, BaseException):
            print("exception", type(x).__name__, x.args)
        else:
            print("value", x)
    print("done")


asyncio.run(main())
