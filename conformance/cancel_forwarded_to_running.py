# Cancelling a task that awaits the running task forwards the cancellation to the running
# task, as MicroPython does: cancel() returns True and the running task's next wait
# overrides it.
import asyncio


async def waiter(t):
    print("waiter awaits main")
    print("waiter got", await t)


async def main():
    me = asyncio.current_task()
    w = asyncio.create_task(waiter(me))
    await asyncio.sleep(0)
    print("cancel", w.cancel())
    await asyncio.sleep(0)
    print("main end")
    return "main"


print("run returned", asyncio.run(main()))
print("done")
