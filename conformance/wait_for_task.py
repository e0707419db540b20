# wait_for() also accepts a Task: on success it returns the task's value;
# on timeout the task itself is cancelled and done.
import asyncio


async def work(v, ms):
    try:
        await asyncio.sleep(ms / 1000)
        return v
    except asyncio.CancelledError:
        print("work", v, "cancelled")
        raise


async def main():
    t = asyncio.create_task(work("fast", 10))
    print("result:", await asyncio.wait_for(t, 0.5))
    print("task done:", t.done(), "await again:", await t)
    t2 = asyncio.create_task(work("slow", 1000))
    try:
        await asyncio.wait_for(t2, 0.02)
        print("no timeout?")
    except asyncio.TimeoutError:
        print("timed out")
    print("slow task done:", t2.done())
    try:
        await t2
    except asyncio.CancelledError:
        print("awaiting the timed-out task raises CancelledError")
    print("done")


asyncio.run(main())
