# asyncio.run() returns main's return value; it can be called several
# times in a row.
import asyncio


async def main(x):
    await asyncio.sleep(0)
    return (x, x * x, "sq")


async def nothing():
    await asyncio.sleep(0)


print(asyncio.run(main(3)))
print(asyncio.run(main(4)))
print(asyncio.run(nothing()))
print("done")
