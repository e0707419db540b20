# An `async def` holding both `yield` and `return <value>` is a generator-based
# coroutine (MicroPython's meaning; CPython rejects `return` with a value in an
# async generator, so this is an mp_ script).
import asyncio


async def counter(n):
    for i in range(n):
        x = yield i
        if x is not None:
            print("sent", x)
    return "counted %d" % n


c = counter(3)
print(type(c).__name__)
print(c.send(None))
print(c.send("hello"))
print(c.send(None))
try:
    c.send(None)
except StopIteration as e:
    print("returned", e.value)


# A bare `yield` hands None to whoever drives the coroutine; under asyncio that
# leaves the task unscheduled until something pushes it again (as Event.wait
# does), so here it is driven by hand.
async def parked(log):
    log.append("parking")
    try:
        got = yield
        log.append("resumed with %r" % (got,))
    except ValueError as e:
        log.append("thrown " + e.args[0])
        return "thrown"
    return "resumed"


log = []
p = parked(log)
print(p.send(None))
try:
    p.send(7)
except StopIteration as e:
    print("returned", e.value)
p = parked(log)
p.send(None)
try:
    p.throw(ValueError("x"))
except StopIteration as e:
    print("returned", e.value)
print(log)


# Run as a task: it suspends through its awaits; the yield is never reached.
async def steps(n):
    for i in range(n):
        await asyncio.sleep(0)
        if i < 0:
            yield
    return n * 10


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep(0)


async def main():
    asyncio.create_task(ticker(3))
    print("awaited", await steps(3))
    print("task", await asyncio.create_task(steps(2)))
    print("gather", await asyncio.gather(steps(1), steps(2)))


asyncio.run(main())
