# A micropython.schedule callback that schedules itself again does not starve the tasks: the
# callbacks queued while the queue runs wait for the next step.
import asyncio
import micropython

state = {"runs": 0, "stop": False}


def poll(_):
    state["runs"] += 1
    if not state["stop"]:
        micropython.schedule(poll, None)


async def worker():
    for i in range(3):
        print("worker", i)
        await asyncio.sleep(0)


async def main():
    micropython.schedule(poll, None)
    await worker()
    state["stop"] = True
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print("callback ran", state["runs"] > 0)
    print("done")


asyncio.run(main())
