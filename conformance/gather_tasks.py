# gather() accepts Task objects (and a mix of tasks and coroutines); the
# tasks keep their identity and their results stay available afterwards.
import asyncio


async def job(n, ms):
    await asyncio.sleep(ms / 1000)
    return n * n


async def main():
    t1 = asyncio.create_task(job(1, 30))
    t2 = asyncio.create_task(job(2, 10))
    t3 = asyncio.create_task(job(3, 20))
    res = await asyncio.gather(t1, t2, t3)
    print("tasks:", res)
    print("all done:", t1.done(), t2.done(), t3.done())
    print("await after gather:", await t1, await t2, await t3)
    t4 = asyncio.create_task(job(4, 20))
    res = await asyncio.gather(job(5, 10), t4, job(6, 0))
    print("mixed:", res)
    print("done")


asyncio.run(main())
