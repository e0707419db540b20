# CancelledError derives from BaseException (not Exception), so
# "except Exception" does not swallow a cancellation; TimeoutError is an
# Exception.
import asyncio

print("CancelledError < BaseException:", issubclass(asyncio.CancelledError, BaseException))
print("CancelledError < Exception:", issubclass(asyncio.CancelledError, Exception))
print("TimeoutError < Exception:", issubclass(asyncio.TimeoutError, Exception))


async def sleeper():
    try:
        await asyncio.sleep(10)
    except Exception:
        print("wrongly caught by except Exception")
    print("not reached")


async def nap(secs):
    await asyncio.sleep(secs)


async def main():
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except Exception:
        print("main: wrongly caught as Exception")
    except asyncio.CancelledError:
        print("main: CancelledError passed through except Exception")
    try:
        await asyncio.wait_for(nap(1), 0.01)
    except Exception as e:
        print("timeout caught by except Exception:", isinstance(e, asyncio.TimeoutError))
    print("done")


asyncio.run(main())
