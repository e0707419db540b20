# loop.run_forever() keeps running tasks until one of them calls
# loop.stop(); then run_forever() returns.
import asyncio

log = []


async def ticker(n):
    for i in range(n):
        log.append("tick %d" % i)
        await asyncio.sleep(0.01)


async def stopper(loop, t):
    await t
    log.append("stopping")
    print("stopper: calling loop.stop()")
    loop.stop()


loop = asyncio.get_event_loop()
t = loop.create_task(ticker(3))
loop.create_task(stopper(loop, t))
print("entering run_forever")
loop.run_forever()
print("run_forever returned")
print(log)
print("ticker done:", t.done())
print("done")
