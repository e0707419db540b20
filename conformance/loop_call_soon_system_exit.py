# SystemExit raised by a call_soon callback is not given to the exception handler: it ends
# asyncio.run, as in CPython (other exceptions go to the handler and the loop goes on).
import asyncio
import sys


def handler(loop, context):
    print("handler:", context["message"].split(" at ")[0])


async def main():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(handler)
    loop.call_soon(int, "not a number")
    loop.call_soon(sys.exit, 3)
    await asyncio.sleep(0)
    print("not reached")


try:
    asyncio.run(main())
except SystemExit as e:
    print("SystemExit", e.code)
print("done")
