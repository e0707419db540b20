# Task.done() is False while the task is pending or running and True once
# it has returned, raised or been cancelled.
import asyncio


async def quick():
    return 1


async def slow():
    await asyncio.sleep(0.02)
    return 2


async def bad():
    raise ValueError("x")


async def observe(get_task):
    print("inside task, done() =", get_task().done())


async def main():
    tq = asyncio.create_task(quick())
    ts = asyncio.create_task(slow())
    print("before running:", tq.done(), ts.done())
    await asyncio.sleep(0)
    print("after one yield:", tq.done(), ts.done())
    await ts
    print("after await slow:", tq.done(), ts.done())
    tb = asyncio.create_task(bad())
    try:
        await tb
    except ValueError:
        print("bad raised, done() =", tb.done())
    box = []
    to = asyncio.create_task(observe(lambda: box[0]))
    box.append(to)
    await to
    print("observer done() =", to.done())
    tc = asyncio.create_task(slow())
    await asyncio.sleep(0)
    tc.cancel()
    print("cancel requested, done() =", tc.done())
    try:
        await tc
    except asyncio.CancelledError:
        print("cancelled, done() =", tc.done())
    print("done")


asyncio.run(main())
