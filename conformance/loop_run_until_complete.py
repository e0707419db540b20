# loop.run_until_complete() runs a coroutine (or a Task made with
# loop.create_task) to completion and returns its value.
import asyncio


async def helper(x):
    await asyncio.sleep(0.01)
    return x + 1


async def compute():
    t = asyncio.create_task(helper(10))
    a = await t
    b = await helper(a)
    return [a, b]


loop = asyncio.get_event_loop()
print("result:", loop.run_until_complete(compute()))
print("second run:", loop.run_until_complete(helper(99)))
task = loop.create_task(helper(1))
print("task result:", loop.run_until_complete(task))
print("task done:", task.done())
print("done")
