# all_tasks(): the set of tasks not done, the running one included; RuntimeError outside a
# running loop. CPython's API (MicroPython has none); the tasks shown are the named ones.
import asyncio

try:
    asyncio.all_tasks()
except RuntimeError as e:
    print("outside a loop:", type(e).__name__, e)


def show(label):
    tasks = asyncio.all_tasks()
    named = sorted(t.get_name() for t in tasks if not t.get_name().startswith("Task-"))
    print(label, type(tasks).__name__, len(tasks), named)


async def quick():
    return 1


async def sleeper(t):
    await asyncio.sleep(t)


async def waiter(event):
    await event.wait()


async def inner():
    show("in gather:")
    return 2


async def in_wait_for():
    show("in wait_for:")


async def failing():
    raise ValueError("boom")


async def main():
    asyncio.current_task().set_name("main")
    show("alone:")
    print("current included:", asyncio.current_task() in asyncio.all_tasks())
    event = asyncio.Event()
    asyncio.create_task(quick(), name="quick")
    s = asyncio.create_task(sleeper(10), name="sleeper")
    w = asyncio.create_task(waiter(event), name="waiter")
    show("created:")
    await asyncio.sleep(0)
    show("after one step:")
    s.cancel()
    show("cancel requested:")
    await asyncio.sleep(0)
    show("after the cancellation:")
    event.set()
    await w
    show("waiter done:")
    print(await asyncio.gather(inner(), inner()))
    show("after gather:")
    await asyncio.wait_for(in_wait_for(), 1)
    show("after wait_for:")
    f = asyncio.create_task(failing(), name="failing")
    await asyncio.sleep(0)
    show("after a failure:")
    try:
        await f
    except ValueError as e:
        print("failing raised", e)
    print("with the loop given:", len(asyncio.all_tasks(asyncio.get_running_loop())))
    print("all done:", all(not t.done() for t in asyncio.all_tasks()))


asyncio.run(main())
print("done")
