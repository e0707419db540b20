# Tasks sleeping for different durations wake up in deadline order, not in
# creation order.
import asyncio

woken = []


async def sleeper(name, ms):
    await asyncio.sleep(ms / 1000)
    print("woke", name)
    woken.append(name)


async def main():
    tasks = [
        asyncio.create_task(sleeper("slow", 60)),
        asyncio.create_task(sleeper("fast", 10)),
        asyncio.create_task(sleeper("mid", 35)),
    ]
    print("sleeping")
    for t in tasks:
        await t
    print("woken", woken)
    print("done")


asyncio.run(main())
