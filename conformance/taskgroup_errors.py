# asyncio.TaskGroup: the block waits for its tasks; the first failure cancels the others and
# the failures come out in an ExceptionGroup, caught with except*.
import asyncio


cancelled = []


async def job(name, delay, fail=False):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        cancelled.append(name)
        raise
    if fail:
        raise ValueError(name)
    print("finished", name)
    return name


async def main():
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(job("a", 0.02))
        b = tg.create_task(job("b", 0.01), name="bee")
    print("results", a.result(), b.result(), b.get_name())

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(job("c", 0.05))
            tg.create_task(job("d", 0.01, fail=True))
            tg.create_task(job("e", 0.05))
            await asyncio.sleep(1)
            print("not reached")
    except* ValueError as eg:
        print("caught", [str(e) for e in eg.exceptions])
    print("cancelled", sorted(cancelled))

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(job("f", 0.01, fail=True))
            tg.create_task(job("g", 0.01, fail=True))
    except ExceptionGroup as eg:
        print("group", eg.args[0], sorted(str(e) for e in eg.exceptions))

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(job("h", 0.05))
            raise KeyError("body")
    except ExceptionGroup as eg:
        print("body error", [type(e).__name__ for e in eg.exceptions])

    tg = asyncio.TaskGroup()
    coro = job("i", 0)
    try:
        tg.create_task(coro)
    except RuntimeError as e:
        print("RuntimeError", str(e).endswith("has not been entered"))
    coro.close()


asyncio.run(main())
print("done")
