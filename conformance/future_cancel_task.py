# Cancelling a task that awaits an asyncio.Future cancels the future too, as CPython's
# Task.cancel does: the future's callbacks run and its other waiters get CancelledError.
import asyncio


async def waiter(name, fut):
    try:
        await fut
        print(name, "finished")
    except asyncio.CancelledError:
        print(name, "got CancelledError")
        raise


async def main():
    loop = asyncio.get_running_loop()

    fut = loop.create_future()
    fut.add_done_callback(lambda f: print("callback: cancelled", f.cancelled()))
    task = asyncio.create_task(waiter("only", fut))
    await asyncio.sleep(0)
    print("cancel", task.cancel())
    print("future cancelled at once:", fut.cancelled())
    try:
        await task
    except asyncio.CancelledError:
        print("task cancelled", task.cancelled())

    # Two waiters: cancelling the one that came last cancels the future, so the first gets
    # CancelledError as well.
    fut = loop.create_future()
    first = asyncio.create_task(waiter("first", fut))
    last = asyncio.create_task(waiter("last", fut))
    await asyncio.sleep(0)
    last.cancel()
    print("future cancelled:", fut.cancelled())
    results = await asyncio.gather(first, last, return_exceptions=True)
    print([type(r).__name__ for r in results])

    # A task whose future completed before the cancel: the task is cancelled, the future
    # keeps its result.
    fut = loop.create_future()
    task = asyncio.create_task(waiter("late", fut))
    await asyncio.sleep(0)
    fut.set_result(1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("late task cancelled; future result", fut.result())

    # A task that catches the CancelledError from the future and goes on.
    async def stubborn(fut):
        try:
            await fut
        except asyncio.CancelledError:
            print("stubborn caught it; future cancelled:", fut.cancelled())
        await asyncio.sleep(0)
        return "stubborn done"

    fut = loop.create_future()
    task = asyncio.create_task(stubborn(fut))
    await asyncio.sleep(0)
    task.cancel()
    print(await task)

    # wait_for on a future that times out cancels the future.
    fut = loop.create_future()
    try:
        await asyncio.wait_for(fut, 0.01)
    except asyncio.TimeoutError:
        print("timeout; future cancelled:", fut.cancelled())
    print("done")


asyncio.run(main())
