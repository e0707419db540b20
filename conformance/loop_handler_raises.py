# An exception raised by the loop's exception handler ends the run: asyncio.run raises it.
import asyncio


def handler(loop, context):
    print("handler:", context["message"])
    raise RuntimeError("from handler")


async def fail():
    raise ValueError("nobody awaits me")


async def main():
    asyncio.get_event_loop().set_exception_handler(handler)
    asyncio.create_task(fail())
    for i in range(3):
        print("main", i)
        await asyncio.sleep(0)
    print("main end")


try:
    asyncio.run(main())
except RuntimeError as e:
    print("run raised", e.args)
asyncio.get_event_loop().set_exception_handler(None)
print("done")
