# asyncio.Runner: several coroutines on one loop, the loop closed at the end of the block.
import asyncio


async def add(a, b):
    await asyncio.sleep(0)
    return a + b


with asyncio.Runner() as runner:
    print(runner.run(add(1, 2)))
    print(runner.run(add(3, 4)))
    loop = runner.get_loop()
    print(loop is runner.get_loop())
coro = add(0, 0)
try:
    runner.run(coro)
except RuntimeError as e:
    print("RuntimeError", e)
coro.close()
try:
    asyncio.Runner().run(5)
except ValueError as e:
    print("ValueError", e)
print("done")
