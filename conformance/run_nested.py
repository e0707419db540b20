# asyncio.run inside a running task runs a nested loop until the new main task ends; the
# other tasks take their steps in it too.
import asyncio


async def inner():
    print("inner start")
    await asyncio.sleep(0)
    print("inner end")
    return "inner"


async def other():
    for i in range(3):
        print("other", i)
        await asyncio.sleep(0)


async def main():
    asyncio.create_task(other())
    await asyncio.sleep(0)
    print("nested returned", asyncio.run(inner()))
    return "main"


print("run returned", asyncio.run(main()))
print("done")
