# An exception raised inside wait_for()'s awaitable before the timeout
# propagates unchanged to the caller.
import asyncio


async def fails():
    await asyncio.sleep(0.01)
    raise ValueError("inner", 7)


async def main():
    try:
        await asyncio.wait_for(fails(), 1)
        print("no exception?")
    except ValueError as e:
        print("caught", type(e).__name__, e.args)
    except asyncio.TimeoutError:
        print("wrong: timeout")
    try:
        await asyncio.wait_for(fails(), 0.5)
    except Exception as e:
        print("caught as Exception:", type(e).__name__)
    print("done")


asyncio.run(main())
