# Cancelling a task that awaits a Future cancels the future with the task's message: its
# waiters and callbacks wake in the order they came, the cancelled task first.
import asyncio
async def waiter(name, fut):
    try:
        await fut
    except asyncio.CancelledError as e:
        print(name, "cancelled", e.args)
async def main():
    fut = asyncio.get_running_loop().create_future()
    a = asyncio.create_task(waiter("a", fut))
    b = asyncio.create_task(waiter("b", fut))
    await asyncio.sleep(0)
    fut.add_done_callback(lambda f: print("callback", f.cancelled()))
    a.cancel("stop")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print(fut.cancelled())
asyncio.run(main())
print("done")
