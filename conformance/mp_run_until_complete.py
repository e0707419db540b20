# MicroPython's module-level run_until_complete: with a task, until it ends; without, until
# no task can run any more.
import asyncio
async def main():
    print("main")
    await asyncio.sleep(0)
    return 5
async def other():
    await asyncio.sleep_ms(20)
    print("other")
t = asyncio.create_task(main())
print(asyncio.run_until_complete(t))
asyncio.create_task(other())
print(asyncio.run_until_complete())
print("done")
