# gather() calls can be nested; results keep the nesting and the order.
import asyncio


async def val(v, ms):
    await asyncio.sleep(ms / 1000)
    return v


async def main():
    res = await asyncio.gather(
        asyncio.gather(val(1, 20), val(2, 10)),
        val(3, 5),
        asyncio.gather(val(4, 0), asyncio.gather(val(5, 15))),
    )
    print(res)
    print("done")


asyncio.run(main())
