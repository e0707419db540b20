# loop.time() is on time.monotonic()'s scale, as CPython's loop clock is: call_at and timeout_at
# take deadlines computed from time.monotonic().
import asyncio, time
async def main():
    loop = asyncio.get_running_loop()
    print(abs(loop.time() - time.monotonic()) < 0.01)
    fired = []
    loop.call_at(time.monotonic() + 0.02, fired.append, "at")
    h = loop.call_later(0.01, fired.append, "later")
    print(abs(h.when() - (loop.time() + 0.01)) < 0.005)
    await asyncio.sleep(0.05)
    print(fired)
    async with asyncio.timeout_at(time.monotonic() + 0.01):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print("cancelled at the deadline")
            raise
try:
    asyncio.run(main())
except TimeoutError:
    print("TimeoutError")
print("done")
