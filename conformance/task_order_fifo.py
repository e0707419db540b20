# Tasks created in order start in creation order, and finish in that order
# when each does the same amount of work.
import asyncio

order = []


async def worker(name):
    print("start", name)
    order.append(name)
    await asyncio.sleep(0)
    print("end", name)
    return name


async def main():
    tasks = []
    for name in ("a", "b", "c", "d", "e"):
        tasks.append(asyncio.create_task(worker(name)))
    print("created", len(tasks))
    for t in tasks:
        r = await t
        print("result", r)
    print("order", order)
    print("done")


asyncio.run(main())
