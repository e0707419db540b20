# asyncio.as_completed: outcomes in completion order, exceptions raised at their turn, and a
# timeout that raises TimeoutError for the rest.
import asyncio


async def job(name, delay, fail=False):
    await asyncio.sleep(delay)
    if fail:
        raise KeyError(name)
    return name


async def main():
    aws = [job("slow", 0.05), job("fast", 0.01), job("bad", 0.03, fail=True)]
    for next_done in asyncio.as_completed(aws):
        try:
            print("got", await next_done)
        except KeyError as e:
            print("KeyError", e)

    slow = asyncio.create_task(job("later", 0.2))
    fast = asyncio.create_task(job("soon", 0.01))
    results = []
    try:
        for next_done in asyncio.as_completed([slow, fast], timeout=0.05):
            results.append(await next_done)
    except TimeoutError:
        print("TimeoutError after", results)
    print(await slow)
    try:
        for _ in asyncio.as_completed(fast):
            pass
    except TypeError:
        print("TypeError")
    print(list(asyncio.as_completed([])))


asyncio.run(main())
print("done")
