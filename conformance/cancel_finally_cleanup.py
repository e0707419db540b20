# Cleanup code in finally blocks runs on cancellation, including nested
# try blocks and cleanup that itself awaits.
import asyncio

log = []


async def worker():
    try:
        try:
            log.append("working")
            await asyncio.sleep(1)
        finally:
            log.append("inner finally")
            print("inner finally")
    finally:
        print("outer finally, awaiting during cleanup")
        await asyncio.sleep(0)
        print("cleanup finished")
        log.append("outer finally")


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("main: worker cancelled")
    print(log)
    print("done")


asyncio.run(main())
