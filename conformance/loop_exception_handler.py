# A task that raises and is never awaited is reported to the handler
# installed with loop.set_exception_handler(); the handler gets the loop and
# a context dict holding the exception.
import asyncio

calls = []


def handler(loop, context):
    exc = context["exception"]
    calls.append(type(exc).__name__)
    print("handler:", type(exc).__name__, exc.args)
    print("handler: has message:", isinstance(context["message"], str))
    print("handler: loop arg is the loop:", loop is asyncio.get_event_loop())


async def bad():
    await asyncio.sleep(0.01)
    raise ValueError("unretrieved", 1)


async def fine():
    await asyncio.sleep(0.01)
    return "fine"


async def main():
    loop = asyncio.get_event_loop()
    print("default handler:", loop.get_exception_handler())
    loop.set_exception_handler(handler)
    print("installed:", loop.get_exception_handler() is handler)
    asyncio.create_task(bad())
    asyncio.create_task(fine())
    await asyncio.sleep(0.08)
    print("calls:", calls)
    loop.set_exception_handler(None)
    print("reset:", loop.get_exception_handler())
    print("done")


asyncio.run(main())
