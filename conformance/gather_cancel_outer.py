# Cancelling the task that awaits gather() cancels every child still
# running; children that already finished are unaffected.
import asyncio

log = []


async def child(name, ms):
    try:
        await asyncio.sleep(ms / 1000)
        log.append(name + " finished")
        return name
    except asyncio.CancelledError:
        log.append(name + " cancelled")
        raise


async def gatherer(children):
    return await asyncio.gather(*children)


async def main():
    kids = [
        asyncio.create_task(child("quick", 0)),
        asyncio.create_task(child("long1", 500)),
        asyncio.create_task(child("long2", 600)),
    ]
    outer = asyncio.create_task(gatherer(kids))
    await asyncio.sleep(0.02)
    print("cancel outer ->", outer.cancel())
    try:
        await outer
        print("no exception?")
    except asyncio.CancelledError:
        print("outer raised CancelledError")
    await asyncio.sleep(0.02)
    print("log:", log)
    print("children done:", [k.done() for k in kids])
    for k in kids[1:]:
        try:
            await k
        except asyncio.CancelledError:
            print("child raised CancelledError")
    print("quick result:", await kids[0])
    print("done")


asyncio.run(main())
