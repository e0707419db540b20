# MicroPython's asyncio.wait_for_ms(aw, ms): like wait_for with an integer
# timeout in milliseconds; on timeout the inner coroutine is cancelled and
# TimeoutError is raised.
import asyncio


async def work(v, ms):
    try:
        await asyncio.sleep_ms(ms)
        return v
    except asyncio.CancelledError:
        print("work", v, "cancelled")
        raise
    finally:
        print("work", v, "finally")


async def main():
    print("in time:", await asyncio.wait_for_ms(work("quick", 10), 200))
    try:
        await asyncio.wait_for_ms(work("slow", 1000), 20)
        print("no timeout?")
    except asyncio.TimeoutError:
        print("timed out")
    t = asyncio.create_task(work("task", 1000))
    try:
        await asyncio.wait_for_ms(t, 20)
    except asyncio.TimeoutError:
        print("task timed out, done:", t.done())
    print("done")


asyncio.run(main())
