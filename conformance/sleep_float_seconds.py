# asyncio.sleep accepts float seconds (and ints): the wake-up order follows
# the durations, and sleep returns None. A negative delay acts like 0.
import asyncio

log = []


async def nap(name, secs):
    r = await asyncio.sleep(secs)
    log.append(name)
    print(name, "woke, returned", r)


async def main():
    ts = [
        asyncio.create_task(nap("0.05s", 0.05)),
        asyncio.create_task(nap("0.01s", 0.01)),
        asyncio.create_task(nap("0.03s", 0.03)),
        asyncio.create_task(nap("0s", 0)),
        asyncio.create_task(nap("negative", -1)),
    ]
    for t in ts:
        await t
    print(log)
    print("done")


asyncio.run(main())
