# ticks_ms/ticks_us/ticks_cpu return ints; across await sleep_ms(20) the
# millisecond ticks advance by at least 20 (and by far less than a second).
import asyncio
import time


async def main():
    print("types:", type(time.ticks_ms()).__name__, type(time.ticks_us()).__name__,
          type(time.ticks_cpu()).__name__)
    t0 = time.ticks_ms()
    u0 = time.ticks_us()
    await asyncio.sleep_ms(20)
    dms = time.ticks_diff(time.ticks_ms(), t0)
    dus = time.ticks_diff(time.ticks_us(), u0)
    print("ms advanced >= 20:", dms >= 20)
    print("ms advanced < 1000:", dms < 1000)
    print("us advanced >= 19000:", dus >= 19000)
    print("us advanced < 1000000:", dus < 1000000)
    t1 = time.ticks_ms()
    await asyncio.sleep(0.03)
    d = time.ticks_diff(time.ticks_ms(), t1)
    print("sleep(0.03) took >= 30 ms:", d >= 30, d < 1000)
    print("done")


asyncio.run(main())
