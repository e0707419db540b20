# loop.is_closed / close / is_running across asyncio.run and new_event_loop, and the loop
# methods that have nothing to do on one thread (shutdown_asyncgens, shutdown_default_executor).
import asyncio


async def main(n):
    loop = asyncio.get_running_loop()
    print("run", n, "running:", loop.is_running(), "closed:", loop.is_closed())
    fut = loop.create_future()
    loop.call_soon(fut.set_result, n)
    print("future gave", await fut)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
    return loop


loop = asyncio.run(main(1))
print("after run: running:", loop.is_running(), "closed:", loop.is_closed())
loop = asyncio.run(main(2))
print("after second run: closed:", loop.is_closed())

loop = asyncio.new_event_loop()
print("new loop: running:", loop.is_running(), "closed:", loop.is_closed())
print("run_until_complete gave", loop.run_until_complete(main(3)) is not None)
print("still open:", not loop.is_closed())
loop.close()
print("closed:", loop.is_closed())
for name, call in [
    ("call_soon", lambda: loop.call_soon(print)),
    ("call_later", lambda: loop.call_later(1, print)),
    ("call_at", lambda: loop.call_at(1, print)),
    ("create_future", lambda: loop.create_future()),
]:
    try:
        call()
        print(name, "accepted")
    except RuntimeError as e:
        print(name, "RuntimeError", e)
loop.close()
print("closed twice:", loop.is_closed())

loop = asyncio.new_event_loop()
print("renewed: closed:", loop.is_closed())
loop.close()
print(asyncio.run(main(4)) is not None)
print("done")
