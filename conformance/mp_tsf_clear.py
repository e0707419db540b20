# ThreadSafeFlag.clear() drops a pending set(): a following wait() blocks
# until the next set().
import asyncio


async def setter(flag):
    await asyncio.sleep_ms(30)
    print("setter: set")
    flag.set()


async def main():
    flag = asyncio.ThreadSafeFlag()
    flag.set()
    flag.clear()
    try:
        await asyncio.wait_for_ms(flag.wait(), 20)
        print("wait returned?")
    except asyncio.TimeoutError:
        print("cleared flag: wait timed out")
    flag.clear()
    s = asyncio.create_task(setter(flag))
    await flag.wait()
    print("woke after set")
    await s
    print("done")


asyncio.run(main())
