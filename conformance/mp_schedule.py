# micropython.schedule(func, arg) queues func(arg) to run soon, outside the
# current code: by the time the scheduling task has yielded once, every
# scheduled callback has run, in the order scheduled.
import asyncio
import micropython

log = []


def cb(arg):
    log.append(arg)


async def main():
    r = micropython.schedule(cb, "first")
    micropython.schedule(cb, "second")
    micropython.schedule(cb, 3)
    await asyncio.sleep(0)
    print("schedule returned", r)
    print("after one yield:", log)
    micropython.schedule(cb, None)
    await asyncio.sleep_ms(5)
    print("None argument passed:", log[-1] is None)
    print("done")


asyncio.run(main())
