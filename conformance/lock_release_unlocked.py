# Releasing a Lock that is not held raises RuntimeError (also after a
# correct acquire/release pair).
import asyncio


async def main():
    lock = asyncio.Lock()
    try:
        lock.release()
        print("no error?")
    except RuntimeError as e:
        print("release unlocked:", type(e).__name__)
    await lock.acquire()
    lock.release()
    try:
        lock.release()
        print("no error?")
    except RuntimeError as e:
        print("double release:", type(e).__name__)
    print("locked:", lock.locked())
    print("still usable:", await lock.acquire())
    lock.release()
    print("done")


asyncio.run(main())
