# gather() promotes its awaitables to tasks when it is first awaited, not when it is called.
import asyncio


async def child(n):
    print("child", n, "start")
    await asyncio.sleep(0)
    print("child", n, "end")
    return n


async def main():
    g = asyncio.gather(child(1), child(2))
    print("gather created")
    await asyncio.sleep(0)
    print("main slept")
    print("result", await g)
    print("done")


asyncio.run(main())
