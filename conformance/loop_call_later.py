# loop.call_later / loop.call_at / loop.time: timers fire in deadline order, on the clock
# sleep uses; TimerHandle.when and cancel; a due timer runs after what is already queued.
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    order = []

    t0 = loop.time()
    print(type(t0).__name__, loop.time() >= t0)

    h30 = loop.call_later(0.03, order.append, "later 30ms")
    h10 = loop.call_later(0.01, order.append, "later 10ms")
    a20 = loop.call_at(t0 + 0.02, order.append, "at 20ms")
    gone = loop.call_later(0.015, order.append, "cancelled")
    print(type(h30).__name__, isinstance(h30, asyncio.TimerHandle), isinstance(h30, asyncio.Handle))
    print("when ordered:", h10.when() < a20.when() < h30.when())
    print("call_at when exact:", a20.when() == t0 + 0.02)
    print("call_later when:", 0.03 <= round(h30.when() - t0, 3) < 0.5)
    gone.cancel()
    print("cancelled:", gone.cancelled(), h10.cancelled())
    await asyncio.sleep(0.05)
    print(order)
    elapsed = loop.time() - t0
    print("elapsed at least 50ms:", elapsed > 0.049, "and under 1s:", elapsed < 1)

    # A timer and sleeping tasks share the clock.
    order.clear()

    async def sleeper(name, delay):
        await asyncio.sleep(delay)
        order.append(name)

    tasks = [asyncio.create_task(sleeper("sleep 20ms", 0.02)), asyncio.create_task(sleeper("sleep 40ms", 0.04))]
    loop.call_later(0.03, order.append, "timer 30ms")
    loop.call_later(0.01, order.append, "timer 10ms")
    for t in tasks:
        await t
    print(order)

    # A timer due now runs after the callbacks and tasks already queued.
    order.clear()
    loop.call_later(0, order.append, "later 0")
    loop.call_at(loop.time() - 1, order.append, "at the past")
    loop.call_soon(order.append, "soon")
    await asyncio.sleep(0)
    order.append("main")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print(order)

    # A timer's callback sees loop.time() at or after its deadline.
    fired = loop.create_future()
    start = loop.time()
    h = loop.call_later(0.02, lambda: fired.set_result(loop.time()))
    at = await fired
    print("fired on time:", at - h.when() > -0.001, 0.02 <= round(h.when() - start, 3) < 0.5)

    # A far timer cancelled; errors of bad arguments.
    far = loop.call_later(3600, print, "never")
    far.cancel()
    for args in [("a", print), (None, print)]:
        try:
            loop.call_later(*args)
        except TypeError as e:
            print("call_later TypeError", e)
    for args in [(), (1,)]:
        try:
            loop.call_later(*args)
        except TypeError as e:
            print("call_later TypeError", e)
    try:
        loop.call_at(None, print)
    except TypeError as e:
        print("call_at TypeError", e)
    print("done")


asyncio.run(main())
