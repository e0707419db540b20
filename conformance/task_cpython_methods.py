# CPython's Task methods: result/exception before and after the end, names, cancelling and
# uncancel, done callbacks in registration order, sleep(delay, result).
import asyncio


async def work(n):
    await asyncio.sleep(0)
    if n == 3:
        raise ValueError("three")
    return n * 10


def report(task):
    name = task.get_name()
    print("callback", name if not name.startswith("Task-") else "unnamed", task.cancelled())


async def main():
    t = asyncio.create_task(work(1), name="first")
    u = asyncio.create_task(work(3), name="second")
    print(t.get_name(), u.get_name())
    for method in (t.result, t.exception):
        try:
            method()
        except asyncio.InvalidStateError as e:
            print("InvalidStateError", e)
    t.add_done_callback(report)
    u.add_done_callback(report)
    t.add_done_callback(lambda task: print("lambda", task.result()))
    print(await asyncio.sleep(0.01, "slept"))
    print(t.done(), t.result(), t.exception(), t.cancelled())
    print(type(u.exception()).__name__, u.exception())
    try:
        u.result()
    except ValueError as e:
        print("result raised", e)
    t.set_name(42)
    print(repr(t.get_name()))
    print(t.get_coro().__name__)
    print(t.get_loop() is asyncio.get_running_loop())
    print(asyncio.current_task(asyncio.get_running_loop()) is asyncio.current_task())

    v = asyncio.create_task(asyncio.sleep(10), name="sleeper")
    v.add_done_callback(report)
    print(v.remove_done_callback(report), v.remove_done_callback(report))
    v.add_done_callback(report)
    await asyncio.sleep(0)
    print(v.cancelling(), v.cancel("because"), v.cancelling())
    print(v.uncancel(), v.cancelling(), v.uncancel())
    try:
        await v
    except asyncio.CancelledError as e:
        print("CancelledError", e.args)
    print(v.cancelled(), v.done(), v.cancel())
    try:
        v.exception()
    except asyncio.CancelledError:
        print("exception() raised CancelledError")
    await asyncio.sleep(0)

    done_task = asyncio.create_task(work(2))
    await done_task
    done_task.add_done_callback(report)
    print("added to a finished task")
    await asyncio.sleep(0)


asyncio.run(main())
print("done")
