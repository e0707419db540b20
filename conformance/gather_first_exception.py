# Without return_exceptions, the first exception raised by a child comes
# out of gather(); the other children are not cancelled and run to the end.
import asyncio

log = []


async def slow_ok(name, ms):
    await asyncio.sleep(ms / 1000)
    log.append(name)
    return name


async def fail(ms):
    await asyncio.sleep(ms / 1000)
    log.append("fail")
    raise ValueError("gather boom")


async def main():
    t_slow = asyncio.create_task(slow_ok("slow", 50))
    try:
        await asyncio.gather(slow_ok("fast", 10), fail(20), t_slow)
        print("no exception?")
    except ValueError as e:
        print("gather raised", type(e).__name__, e.args)
    print("log at raise:", log)
    print("slow task done at raise:", t_slow.done())
    r = await t_slow
    print("slow task still completed:", r)
    print("log:", log)
    print("done")


asyncio.run(main())
