# loop.call_exception_handler(context) passes the given context dict to the
# installed handler.
import asyncio

seen = []


def handler(loop, context):
    seen.append(context)
    print("handler got message:", context["message"])
    exc = context.get("exception")
    if exc is not None:
        print("handler got exception:", type(exc).__name__, exc.args)


async def main():
    loop = asyncio.get_event_loop()
    loop.set_exception_handler(handler)
    ctx = {"message": "custom report", "exception": RuntimeError("custom", 5)}
    loop.call_exception_handler(ctx)
    loop.call_exception_handler({"message": "message only"})
    print("same dict passed:", seen[0] is ctx)
    print("calls:", len(seen))
    print("has default handler:", callable(loop.default_exception_handler))
    loop.set_exception_handler(None)
    print("done")


asyncio.run(main())
