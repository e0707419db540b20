# A child of gather() that gets cancelled: with return_exceptions=True its
# slot holds a CancelledError; without it, gather() raises CancelledError
# to its caller (which itself was not cancelled).
import asyncio


async def job(v, ms):
    await asyncio.sleep(ms / 1000)
    return v


async def gather_all(*aws):
    return await asyncio.gather(*aws, return_exceptions=True)


async def main():
    victim = asyncio.create_task(job("victim", 500))
    other = asyncio.create_task(job("other", 20))
    g = asyncio.create_task(gather_all(victim, other))
    await asyncio.sleep(0.01)
    victim.cancel()
    res = await g
    for x in res:
        if isinstance(x, BaseException):
            print("slot: exception", type(x).__name__)
        else:
            print("slot: value", x)

    victim2 = asyncio.create_task(job("victim2", 500))
    other2 = asyncio.create_task(job("other2", 20))

    async def gatherer():
        try:
            return await asyncio.gather(victim2, other2)
        except asyncio.CancelledError:
            print("gatherer: gather raised CancelledError")
            return "caught"

    g2 = asyncio.create_task(gatherer())
    await asyncio.sleep(0.01)
    victim2.cancel()
    print("gatherer returned:", await g2)
    print("other2 result:", await other2)
    print("done")


asyncio.run(main())
