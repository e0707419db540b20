# An `async def` holding `yield` (and no `return <value>`) awaited or run as a task:
# MicroPython drives it as a generator-based coroutine. (In CPython it is an async
# generator, which cannot be awaited; microloop keeps it an async generator, usable
# with `async for`, and lets `await` and create_task drive it as MicroPython does.)
import asyncio

log = []


async def handshake(tag):
    log.append(tag + " start")
    got = yield tag + " ready"  # the driver receives this value
    log.append(tag + " got " + str(got))
    if got == "stop":
        return
    log.append(tag + " finish")


async def outer():
    r = await handshake("a")
    log.append("a returned " + str(r))
    return "outer done"


c = outer()
print(c.send(None))
try:
    c.send("go")
except StopIteration as e:
    print("outer returned", e.value)
c = outer()
c.send(None)
try:
    c.send("stop")
except StopIteration as e:
    print("outer returned", e.value)
print(log)


# Exceptions thrown into the awaiting coroutine reach the code at the yield.
async def guarded():
    try:
        yield "waiting"
    except KeyError as e:
        log.append("guarded caught " + e.args[0])


async def outer2():
    await guarded()
    return "outer2 done"


log.clear()
c = outer2()
print(c.send(None))
try:
    c.throw(KeyError("k"))
except StopIteration as e:
    print("outer2 returned", e.value)
print(log)


# As a task: its awaits suspend it; the yield is not reached, so the task ends
# with None (the MicroPython stream server's `_serve` has this shape).
async def worker(n, out):
    for i in range(n):
        await asyncio.sleep(0)
        out.append(i)
        if i < 0:
            yield


async def main():
    out = []
    await worker(2, out)
    print("awaited", out)
    out = []
    t = asyncio.create_task(worker(3, out))
    print("task result", await t, out)


asyncio.run(main())
