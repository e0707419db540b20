# CPython's get_running_loop, run_in_executor and to_thread: the function's value, or its
# exception raised where the result is awaited; get_running_loop outside a task raises.
import asyncio
from functools import partial


def add(a, b, scale=1):
    return (a + b) * scale


def fail(message):
    raise ValueError(message)


async def main():
    loop = asyncio.get_running_loop()
    print(loop is asyncio.get_running_loop())
    print(await loop.run_in_executor(None, add, 2, 3))
    print(await loop.run_in_executor(None, partial(add, 2, 3, scale=10)))
    try:
        await loop.run_in_executor(None, fail, "in executor")
    except ValueError as e:
        print("ValueError", e)
    print(await asyncio.to_thread(add, 1, 1, scale=3))
    try:
        await asyncio.to_thread(fail, "in thread")
    except ValueError as e:
        print("ValueError", e)


try:
    asyncio.get_running_loop()
except RuntimeError as e:
    print("RuntimeError", e)
asyncio.run(main())
