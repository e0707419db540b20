# new_event_loop() gives a usable loop: run_until_complete works on it,
# tasks created inside run on it, and close() can be called at the end.
import asyncio


async def child(v):
    await asyncio.sleep(0.01)
    return v * 2


async def main(tag):
    t = asyncio.create_task(child(21))
    r = await t
    print(tag, "child returned", r)
    return tag + " ok"


loop = asyncio.new_event_loop()
print(loop.run_until_complete(main("first loop")))
loop.close()
loop2 = asyncio.new_event_loop()
print(loop2.run_until_complete(main("second loop")))
print(loop2.run_until_complete(main("second loop again")))
loop2.close()
print("asyncio.run after that:", asyncio.run(main("run")))
print("done")
