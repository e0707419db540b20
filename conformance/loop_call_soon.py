# loop.call_soon: callbacks take their place in the ready queue among task steps, in FIFO
# order; handles can be cancelled; exceptions in callbacks go to the exception handler.
import asyncio


def cb(*args):
    print("callback", *args)


async def worker(name, n):
    for i in range(n):
        print(name, "step", i)
        await asyncio.sleep(0)


async def main():
    loop = asyncio.get_running_loop()
    print("running:", loop.is_running(), "closed:", loop.is_closed())

    # Tasks created before the callback step first; a task created after it steps after it.
    a = asyncio.create_task(worker("a", 3))
    h = loop.call_soon(cb, 1)
    b = asyncio.create_task(worker("b", 3))
    loop.call_soon(cb, 2, "two")
    print(type(h).__name__, isinstance(h, asyncio.Handle), h.cancelled())
    await asyncio.sleep(0)
    print("main resumed")
    await a
    await b

    # A cancelled handle is never called; cancelling twice is harmless.
    h1 = loop.call_soon(cb, "cancelled")
    h2 = loop.call_soon(cb, "kept")
    print(h1.cancel(), h1.cancelled(), h2.cancelled())
    h1.cancel()
    await asyncio.sleep(0)

    # Cancelled after it ran: nothing happens.
    h3 = loop.call_soon(cb, "ran")
    await asyncio.sleep(0)
    h3.cancel()
    print("h3 cancelled:", h3.cancelled())

    # A callback scheduling callbacks: they run after what was already queued.
    def outer():
        print("outer")
        loop.call_soon(cb, "from outer")

    loop.call_soon(outer)
    loop.call_soon(cb, "queued after outer")
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    # Callbacks that cancel a task and complete a future.
    async def sleeper():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            print("sleeper cancelled")
            raise

    s = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    loop.call_soon(s.cancel)
    try:
        await s
    except asyncio.CancelledError:
        print("sleeper done", s.cancelled())

    # get_running_loop works inside a callback.
    def check_loop():
        print("loop in callback:", asyncio.get_running_loop() is loop)

    loop.call_soon(check_loop)
    await asyncio.sleep(0)

    # Exceptions in callbacks go to the handler with CPython's context.
    def handler(loop_, context):
        print("handler:", sorted(context))
        print("  message:", context["message"].split(" at ")[0])
        print("  exception:", type(context["exception"]).__name__, context["exception"].args)
        print("  handle cancelled:", context["handle"].cancelled())

    loop.set_exception_handler(handler)

    def fails(x):
        raise ValueError(x)

    loop.call_soon(fails, "oops")
    loop.call_soon(cb, "after failure")
    loop.call_soon(print)
    loop.call_soon(5)
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    # A handler that raises does not stop the loop.
    def bad_handler(loop_, context):
        print("bad handler called")
        raise RuntimeError("handler failed")

    loop.set_exception_handler(bad_handler)
    loop.call_soon(fails, "again")
    loop.call_soon(cb, "still running")
    await asyncio.sleep(0)
    loop.set_exception_handler(None)

    for args in [(), ("x",), (cb,)]:
        try:
            loop.call_soon(*args, foo=1) if args == ("x",) else loop.call_soon(*args)
            print("accepted", len(args))
        except TypeError as e:
            print("TypeError", e)
    await asyncio.sleep(0)
    print("done")


asyncio.run(main())
