# When the timeout expires first, wait_for() cancels the inner coroutine
# (which sees CancelledError and runs its cleanup) and then raises
# asyncio.TimeoutError.
import asyncio


async def slow():
    try:
        print("slow: started")
        await asyncio.sleep(10)
        print("slow: finished?")
        return "late"
    except asyncio.CancelledError:
        print("slow: CancelledError")
        raise
    finally:
        print("slow: finally")


async def main():
    try:
        r = await asyncio.wait_for(slow(), 0.02)
        print("no timeout?", r)
    except asyncio.TimeoutError as e:
        print("main: TimeoutError, is TimeoutError:", isinstance(e, asyncio.TimeoutError))
    print("main: continuing")
    print("done")


asyncio.run(main())
