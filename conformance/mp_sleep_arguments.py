# sleep and sleep_ms check their argument when they are called, as MicroPython's do.
import asyncio

for expr in ("asyncio.sleep_ms(2**61)", "asyncio.sleep_ms(2**61 - 1)", "asyncio.sleep_ms(10**20)",
             "asyncio.sleep_ms(1.5)", "asyncio.sleep_ms(-5)", "asyncio.sleep(1e300)",
             "asyncio.sleep(float('nan'))", "asyncio.sleep(float('inf'))", "asyncio.sleep(-1.5)",
             "asyncio.sleep(0.0004)"):
    try:
        eval(expr)
        print(expr, "ok")
    except Exception as e:
        print(expr, type(e).__name__, e.args)


async def main():
    for t in (0.0004, 0, -1):
        await asyncio.sleep(t)
        print("slept", t)


asyncio.run(main())
print("done")
