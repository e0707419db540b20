# await asyncio.sleep(0) hands control to the next ready task: three tasks
# interleave step by step, and main (which yields after creating them) takes
# its turn after them.
import asyncio


async def stepper(name, steps):
    for i in range(steps):
        print(name, "step", i)
        await asyncio.sleep(0)
    print(name, "finished")


async def main():
    ta = asyncio.create_task(stepper("A", 3))
    tb = asyncio.create_task(stepper("B", 3))
    tc = asyncio.create_task(stepper("C", 3))
    for i in range(2):
        print("main step", i)
        await asyncio.sleep(0)
    await ta
    await tb
    await tc
    print("done")


asyncio.run(main())
