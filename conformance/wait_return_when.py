# asyncio.wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED and a timeout; the sets it
# returns and that it cancels nothing.
import asyncio


async def job(name, delay, fail=False):
    await asyncio.sleep(delay)
    if fail:
        raise ValueError(name)
    return name


def names(tasks):
    return sorted(t.get_name() for t in tasks)


async def main():
    tasks = [asyncio.create_task(job(n, d), name=n) for n, d in (("a", 0.05), ("b", 0.01), ("c", 0.03))]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    print("first completed", names(done), names(pending))
    done, pending = await asyncio.wait(tasks)
    print("all completed", names(done), names(pending), [t.result() for t in tasks])

    tasks = [
        asyncio.create_task(job("x", 0.01), name="x"),
        asyncio.create_task(job("y", 0.03, fail=True), name="y"),
        asyncio.create_task(job("z", 0.2), name="z"),
    ]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    print("first exception", names(done), names(pending))
    done, pending = await asyncio.wait(pending, timeout=0.02)
    print("timeout", names(done), names(pending), tasks[2].cancelled())
    await tasks[2]
    print("z", tasks[2].result())
    tasks[1].exception()

    for bad in ([], set()):
        try:
            await asyncio.wait(bad)
        except ValueError as e:
            print("ValueError", e)
    try:
        await asyncio.wait(tasks, return_when="sometimes")
    except ValueError as e:
        print("ValueError", e)
    coro = job("w", 0)
    try:
        await asyncio.wait([coro])
    except TypeError as e:
        print("TypeError", e)
    coro.close()
    try:
        await asyncio.wait(tasks[0])
    except TypeError as e:
        print("TypeError", e)
    done, pending = await asyncio.wait(tasks)
    print("already done", len(done), len(pending))


asyncio.run(main())
print("done")
