# asyncio.shield: cancelling the task that awaits a shielded task leaves that task running;
# its result and exception pass through when nobody is cancelled.
import asyncio


async def job(delay, value, fail=False):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        print("job cancelled", value)
        raise
    if fail:
        raise ValueError(value)
    print("job finished", value)
    return value


async def waiter(aw):
    try:
        return await asyncio.shield(aw)
    except asyncio.CancelledError:
        print("waiter cancelled")
        raise


async def main():
    inner = asyncio.create_task(job(0.03, "inner"))
    w = asyncio.create_task(waiter(inner))
    await asyncio.sleep(0.01)
    w.cancel()
    try:
        await w
    except asyncio.CancelledError:
        print("w cancelled", w.cancelled(), inner.done())
    print("inner", await inner)

    print("value", await asyncio.shield(job(0.01, "direct")))
    try:
        await asyncio.shield(job(0.01, "failing", fail=True))
    except ValueError as e:
        print("ValueError", e)
    done = asyncio.create_task(job(0, "done"))
    await done
    print(asyncio.shield(done) is done)

    inner = asyncio.create_task(job(0.05, "cancelled inside"))
    outer = asyncio.shield(inner)
    await asyncio.sleep(0.01)
    inner.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        print("outer cancelled too", outer.cancelled())


asyncio.run(main())
print("done")
