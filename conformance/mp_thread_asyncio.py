# A thread and the asyncio loop: ThreadSafeFlag.set() from a thread wakes the waiting task (as
# MicroPython's documentation of ThreadSafeFlag says), the loop keeps running tasks while a
# thread computes without ever blocking, and code spinning on a flag another thread sets ends.
import asyncio
import _thread
import time

flag = asyncio.ThreadSafeFlag()
readings = []
# The thread waits on `ack` after each reading until the task has printed it, so that every
# reading is seen on its own, however the two are scheduled.
ack = _thread.allocate_lock()
ack.acquire()


def sensor(n):
    for i in range(n):
        time.sleep_ms(2)
        readings.append(i * i)
        flag.set()
        ack.acquire()
    print("sensor done")
    ended.append("sensor")


ticks = [0]
ended = []


async def ended_(name):
    while name not in ended:
        await asyncio.sleep_ms(1)


def spinner():
    # Never blocks: only the switch between threads lets the loop tick.
    while ticks[0] < 5:
        pass
    print("spinner saw", ticks[0], "ticks")
    ended.append("spinner")


async def ticker():
    while ticks[0] < 5:
        await asyncio.sleep_ms(2)
        ticks[0] += 1


async def main():
    _thread.start_new_thread(sensor, (4,))
    for _ in range(4):
        await flag.wait()
        print("reading", readings[-1], len(readings))
        ack.release()
    await ended_("sensor")

    _thread.start_new_thread(spinner, ())
    await asyncio.create_task(ticker())
    await ended_("spinner")

    box = []
    _thread.start_new_thread(lambda: box.append("set by thread"), ())
    while not box:
        pass
    print(box)


asyncio.run(main())
print("done")
