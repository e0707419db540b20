# Three tasks sharing one loop: a ticker, a worker that waits on an Event, and main.
import asyncio


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep_ms(100)


async def worker(ready):
    print("worker waiting")
    await ready.wait()
    print("worker got the event")
    return "work done"


async def main():
    ready = asyncio.Event()
    tick = asyncio.create_task(ticker(3))
    work = asyncio.create_task(worker(ready))
    await asyncio.sleep_ms(150)
    ready.set()
    print(await work)
    await tick
    try:
        await asyncio.wait_for(asyncio.sleep(10), 0.05)
    except asyncio.TimeoutError:
        print("timed out, as asked")


asyncio.run(main())
