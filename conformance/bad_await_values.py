# Awaiting a non-awaitable raises TypeError inside the awaiting task;
# gather() and wait_for() given a non-awaitable raise TypeError when awaited.
import asyncio


async def ok():
    return 1


async def main():
    try:
        await 42
        print("awaited an int?")
    except TypeError as e:
        print("await int ->", type(e).__name__)
    try:
        await asyncio.gather(ok(), 42)
        print("gathered an int?")
    except TypeError as e:
        print("gather int ->", type(e).__name__)
    try:
        await asyncio.wait_for(42, 1)
        print("wait_for int?")
    except TypeError as e:
        print("wait_for int ->", type(e).__name__)
    print("loop still fine:", await ok())
    print("done")


asyncio.run(main())
