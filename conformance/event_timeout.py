# wait_for on Event.wait() of an unset Event times out; after set() the same
# pattern returns True.
import asyncio


async def main():
    ev = asyncio.Event()
    try:
        await asyncio.wait_for(ev.wait(), 0.02)
        print("no timeout?")
    except asyncio.TimeoutError:
        print("timed out waiting on unset event")
    print("is_set:", ev.is_set())
    ev.set()
    r = await asyncio.wait_for(ev.wait(), 0.02)
    print("set event wait_for ->", r)
    print("done")


asyncio.run(main())
