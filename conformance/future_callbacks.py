# Done callbacks of asyncio.Future: called through the loop (never inline), in the order they
# were added, interleaved with the tasks awaiting the future in the order those began waiting.
import asyncio


def make_cb(name):
    def cb(fut):
        print("callback", name, fut.result())
    return cb


async def waiter(name, fut):
    print(name, "got", await fut)


async def other():
    for i in range(3):
        print("other step", i)
        await asyncio.sleep(0)


async def main():
    loop = asyncio.get_running_loop()

    fut = loop.create_future()
    fut.add_done_callback(make_cb("one"))
    t1 = asyncio.create_task(waiter("task1", fut))
    await asyncio.sleep(0)
    fut.add_done_callback(make_cb("two"))
    t2 = asyncio.create_task(waiter("task2", fut))
    await asyncio.sleep(0)
    fut.add_done_callback(make_cb("three"))
    o = asyncio.create_task(other())
    await asyncio.sleep(0)
    fut.set_result("R")
    print("after set_result")
    await asyncio.sleep(0)
    print("main after one step")
    await t1
    await t2
    await o

    # Added to a future that is done: scheduled at once, still not called inline.
    fut.add_done_callback(make_cb("late"))
    print("added late")
    await asyncio.sleep(0)
    print("after late")

    # A callback that adds a callback, and one that completes another future.
    second = loop.create_future()

    def chain(f):
        print("chain sees", f.result())
        second.set_result(f.result() * 2)
        f.add_done_callback(make_cb("added by chain"))

    first = loop.create_future()
    first.add_done_callback(chain)
    second.add_done_callback(make_cb("second"))
    first.set_result(21)
    print("awaiting second")
    print("second is", await second)
    await asyncio.sleep(0)

    # An exception in a done callback goes to the exception handler; the rest still run.
    seen = []

    def handler(loop_, context):
        seen.append(context)
        print("handler:", sorted(context), context["message"].split(" at ")[0])
        print("  exception:", type(context["exception"]).__name__, context["exception"].args)
        print("  handle is a Handle:", isinstance(context["handle"], asyncio.Handle))

    loop.set_exception_handler(handler)

    def bad(f):
        raise RuntimeError("callback failed")

    fut = loop.create_future()
    fut.add_done_callback(bad)
    fut.add_done_callback(make_cb("after bad"))
    fut.set_result("x")
    await asyncio.sleep(0)
    print("handler calls:", len(seen))
    loop.set_exception_handler(None)
    print("done")


asyncio.run(main())
