# gather(...).cancel(): awaited already, the awaiting task gets CancelledError and the
# children are cancelled; not awaited yet, its tasks are cancelled and awaiting it raises.
import asyncio


async def child(name, delay):
    try:
        await asyncio.sleep(delay)
        return name
    except asyncio.CancelledError:
        print("child cancelled", name)
        raise


async def waiter(g):
    try:
        await g
    except asyncio.CancelledError:
        print("waiter got CancelledError")
        raise


async def main():
    g = asyncio.gather(child("a", 1), child("b", 1))
    w = asyncio.create_task(waiter(g))
    await asyncio.sleep(0.01)
    print("cancel", g.cancel())
    try:
        await w
    except asyncio.CancelledError:
        print("w cancelled", w.cancelled())

    t1 = asyncio.create_task(child("c", 1))
    t2 = asyncio.create_task(child("d", 1))
    await asyncio.sleep(0)
    g = asyncio.gather(t1, t2)
    print("cancel", g.cancel())
    try:
        await g
    except asyncio.CancelledError:
        print("gather raised CancelledError")
    await asyncio.sleep(0)
    print(t1.cancelled(), t2.cancelled())

    g = asyncio.gather(child("g", 1), child("h", 1), return_exceptions=True)
    w = asyncio.create_task(waiter(g))
    await asyncio.sleep(0.01)
    print("cancel", g.cancel())
    try:
        await w
    except asyncio.CancelledError:
        print("return_exceptions: w cancelled", w.cancelled())

    g = asyncio.gather(child("e", 0), child("f", 0))
    print(await g)
    print("cancel after the end", g.cancel())


asyncio.run(main())
print("done")
