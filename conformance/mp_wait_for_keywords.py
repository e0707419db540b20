# wait_for and wait_for_ms take their arguments by position or by name (timeout= is common),
# create_task its coroutine as coro=; wrong arguments raise MicroPython's TypeErrors.
import asyncio
async def op(x):
    await asyncio.sleep(0)
    return x
async def main():
    print(await asyncio.wait_for(op(1), timeout=1))
    print(await asyncio.wait_for(aw=op(2), timeout=None))
    print(await asyncio.wait_for_ms(op(3), timeout=100))
    c = op(4)
    try:
        await asyncio.wait_for(c)
    except TypeError as e: print("TypeError", e)
    try:
        await asyncio.wait_for(c, 1, 2, 3)
    except TypeError as e: print("TypeError", e)
    try:
        await asyncio.wait_for(c, 1, tmeout=3)
    except TypeError as e: print("TypeError", e)
    t = asyncio.create_task(coro=op(5)); print(await t)
    print('done')
asyncio.run(main())
