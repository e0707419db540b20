# MicroPython's asyncio.sleep_ms(ms): integer milliseconds; tasks wake in
# deadline order, sleep_ms(0) yields like sleep(0), and it returns None.
import asyncio

log = []


async def napper(name, ms):
    r = await asyncio.sleep_ms(ms)
    log.append(name)
    print(name, "woke, returned", r)


async def spinner():
    for i in range(3):
        print("spin", i)
        await asyncio.sleep_ms(0)


async def main():
    ts = [
        asyncio.create_task(napper("50ms", 50)),
        asyncio.create_task(napper("10ms", 10)),
        asyncio.create_task(napper("30ms", 30)),
    ]
    sp = asyncio.create_task(spinner())
    await sp
    for t in ts:
        await t
    print(log)
    print("done")


asyncio.run(main())
