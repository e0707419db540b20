# gather() returns results in argument order, whatever order the
# coroutines finish in.
import asyncio

finished = []


async def job(name, ms, value):
    await asyncio.sleep(ms / 1000)
    finished.append(name)
    print("finished", name)
    return value


async def main():
    res = await asyncio.gather(job("a", 40, 1), job("b", 10, "two"), job("c", 25, [3]))
    print("results:", res)
    print("finish order:", finished)
    print("type:", type(res).__name__)
    print("done")


asyncio.run(main())
