# ThreadSafeFlag is a flag, not a counter: two set() calls before a wait()
# release a single wait(); the next wait() blocks.
import asyncio


async def consumer(flag, log):
    for i in range(2):
        await flag.wait()
        log.append("woke %d" % i)
        print("consumer woke", i)


async def main():
    flag = asyncio.ThreadSafeFlag()
    log = []
    flag.set()
    flag.set()
    t = asyncio.create_task(consumer(flag, log))
    await asyncio.sleep_ms(30)
    print("after two sets:", log)
    print("consumer blocked on second wait:", not t.done())
    flag.set()
    await t
    print("after third set:", log)
    print("done")


asyncio.run(main())
