# asyncio.to_thread and loop.run_in_executor run the function in a thread of its own: the
# loop's tasks go on meanwhile, the value or the exception comes back to the awaiting task,
# and to_thread returns a coroutine (nothing runs until it is awaited).
import asyncio, time, threading

def blocking(n):
    time.sleep(0.05)
    return n * 2, threading.current_thread() is not threading.main_thread()

def failing():
    raise KeyError("k")

ticked = threading.Event()

def wait_for_ticks():
    # Returns True only if the loop's ticker ran while this thread waited.
    return ticked.wait(5), threading.current_thread() is not threading.main_thread()

async def ticker(log):
    for i in range(3):
        await asyncio.sleep(0.01)
        log.append(i)
    ticked.set()

async def main():
    log = []
    t = asyncio.create_task(ticker(log))
    result = await asyncio.to_thread(wait_for_ticks)
    await t
    print(result, log)
    loop = asyncio.get_running_loop()
    print(await loop.run_in_executor(None, blocking, 5))
    try:
        await asyncio.to_thread(failing)
    except KeyError as e:
        print("KeyError", e)
    res = await asyncio.gather(*(asyncio.to_thread(blocking, i) for i in range(5)))
    print(res)
    c = asyncio.to_thread(blocking, 1)
    print(asyncio.iscoroutine(c))
    await c
asyncio.run(main())

# to_thread runs the function in a copy of the calling task's context.
import contextvars

cv = contextvars.ContextVar("cv", default="unset")


async def with_context():
    cv.set("task value")
    print("context:", await asyncio.to_thread(cv.get))


asyncio.run(with_context())
