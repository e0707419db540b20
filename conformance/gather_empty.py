# gather() with no awaitables returns an empty list, with or without
# return_exceptions.
import asyncio


async def main():
    r = await asyncio.gather()
    print(r, type(r).__name__, len(r))
    r = await asyncio.gather(return_exceptions=True)
    print(r)
    print("done")


asyncio.run(main())
