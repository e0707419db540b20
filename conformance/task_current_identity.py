# asyncio.current_task() inside a task is the very Task object that
# create_task returned, and inside main it is main's task.
import asyncio

tasks = {}


async def who(name):
    me = asyncio.current_task()
    await asyncio.sleep(0)
    again = asyncio.current_task()
    print(name, "is its task:", me is tasks[name], "stable:", me is again)
    return me


async def main():
    main_task = asyncio.current_task()
    for name in ("x", "y"):
        tasks[name] = asyncio.create_task(who(name))
    rx = await tasks["x"]
    ry = await tasks["y"]
    print("returned own task:", rx is tasks["x"], ry is tasks["y"])
    print("x is not y:", rx is not ry)
    print("main unchanged:", asyncio.current_task() is main_task)
    print("main not a child:", main_task is not rx and main_task is not ry)
    print("done")


asyncio.run(main())
