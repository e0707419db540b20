# A callback that micropython.schedule queues from another callback runs while the main task
# waits on an Event nothing else sets: the loop keeps going while callbacks are queued.
import asyncio, micropython
evt = asyncio.Event()
def again(_):
    micropython.schedule(fire, None)
def fire(_):
    print("fire")
    evt.set()
async def main():
    micropython.schedule(again, None)
    await evt.wait()
    print("woke")
asyncio.run(main())
