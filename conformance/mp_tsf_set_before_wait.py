# ThreadSafeFlag: set() before wait() makes wait() return at once (None),
# and the flag clears itself on the way out.
import asyncio


async def main():
    flag = asyncio.ThreadSafeFlag()
    flag.set()
    r = await flag.wait()
    print("wait after set returned", r)
    try:
        await asyncio.wait_for_ms(flag.wait(), 30)
        print("second wait returned?")
    except asyncio.TimeoutError:
        print("second wait blocked: flag was consumed")
    flag.set()
    await flag.wait()
    print("set again, wait returned again")
    print("done")


asyncio.run(main())
