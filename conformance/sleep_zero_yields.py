# asyncio.sleep(0) returns None and lets every other ready task run once
# before the caller resumes.
import asyncio

counter = [0]


async def bump():
    while counter[0] < 3:
        counter[0] += 1
        print("bump ->", counter[0])
        await asyncio.sleep(0)


async def main():
    t = asyncio.create_task(bump())
    print("main sees", counter[0])
    r = await asyncio.sleep(0)
    print("sleep(0) returned", r)
    print("main sees", counter[0])
    await asyncio.sleep(0)
    print("main sees", counter[0])
    await t
    print("main sees", counter[0])
    print("done")


asyncio.run(main())
