# A timeout and a sleep of the same length: the timeout's deadline, taken first, is the earlier
# one, so it fires first every time (timers and sleeps run in deadline order); a call_later made
# before a sleep of the same delay runs before the sleeper.
import asyncio


async def main():
    outcomes = []
    for _ in range(10):
        try:
            async with asyncio.timeout(0.005):
                await asyncio.sleep(0.005)
            outcomes.append("slept")
        except TimeoutError:
            outcomes.append("timeout")
    print(sorted(set(outcomes)), len(outcomes))
    order = []

    async def sleeper():
        await asyncio.sleep(0.005)
        order.append("sleep")

    asyncio.get_running_loop().call_later(0.005, order.append, "call_later")
    await sleeper()
    await asyncio.sleep(0.01)
    print(order)


asyncio.run(main())
print("done")
