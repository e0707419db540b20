# create_task() only schedules the task: its body does not start until the
# creating task yields to the loop.
import asyncio

log = []


async def child(name):
    log.append(name + " ran")
    print(name, "running")


async def main():
    t1 = asyncio.create_task(child("t1"))
    t2 = asyncio.create_task(child("t2"))
    print("after create, log:", log)
    print("t1 done:", t1.done())
    x = 0
    for i in range(1000):
        x += i
    print("after busy work, log:", log, x)
    await asyncio.sleep(0)
    print("after sleep(0), log:", log)
    await t1
    await t2
    print("done")


asyncio.run(main())
