# MicroPython's context for an unretrieved task exception: the message is
# "Task exception wasn't retrieved" (CPython says "Task exception was never
# retrieved"), "exception" is the exception and "future" is the task. The
# handler runs on the loop iteration after the task ends.
import asyncio

tasks = []


def handler(loop, context):
    print("message:", context["message"])
    print("exception:", type(context["exception"]).__name__, context["exception"].args)
    print("future is the task:", context["future"] is tasks[0])


async def bad():
    raise ValueError("lost")


async def main():
    asyncio.get_event_loop().set_exception_handler(handler)
    tasks.append(asyncio.create_task(bad()))
    await asyncio.sleep(0)
    print("main: after first yield")
    await asyncio.sleep_ms(30)
    print("main: after sleep")
    asyncio.get_event_loop().set_exception_handler(None)
    print("done")


asyncio.run(main())
