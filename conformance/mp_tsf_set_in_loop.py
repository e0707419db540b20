# ThreadSafeFlag.set() from a task wakes the waiter at the loop's next poll, behind the task
# that set it when that task yields at once.
import asyncio

flag = asyncio.ThreadSafeFlag()


async def waiter():
    print("waiting")
    await flag.wait()
    print("woken")


async def setter():
    print("set")
    flag.set()
    await asyncio.sleep(0)
    print("setter after sleep")
    await asyncio.sleep(0)
    print("setter end")


async def main():
    w = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    await asyncio.gather(setter(), w)
    print("done")


asyncio.run(main())
