# A failing task whose exception is retrieved by awaiting it is not
# reported to the exception handler; a cancelled task is not reported.
import asyncio

calls = []


def handler(loop, context):
    calls.append(type(context["exception"]).__name__)
    print("handler called:", type(context["exception"]).__name__)


async def bad():
    await asyncio.sleep(0.01)
    raise ValueError("retrieved")


async def sleeper():
    await asyncio.sleep(10)


async def main():
    loop = asyncio.get_event_loop()
    loop.set_exception_handler(handler)
    t = asyncio.create_task(bad())
    try:
        await t
    except ValueError as e:
        print("retrieved:", e.args)
    del t
    s = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    s.cancel()
    del s
    await asyncio.sleep(0.05)
    print("handler calls:", calls)
    loop.set_exception_handler(None)
    print("done")


asyncio.run(main())
