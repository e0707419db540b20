# A task cancelled with a message, collected by asyncio.wait: result() raises the CancelledError
# with that message the first time, whether the task had started or not, then one without it.
import asyncio

async def work():
    await asyncio.sleep(1)

async def main():
    t = asyncio.create_task(work())
    t.cancel("no longer needed")
    await asyncio.wait([t])
    try:
        t.result()
    except asyncio.CancelledError as e:
        print("result():", e.args)
    t2 = asyncio.create_task(work())
    await asyncio.sleep(0)
    t2.cancel("bye")
    await asyncio.wait([t2])
    try:
        t2.result()
    except asyncio.CancelledError as e:
        print("result() started:", e.args)
    try:
        t2.result()
    except asyncio.CancelledError as e:
        print("again:", e.args)



async def await_after_result():
    t = asyncio.create_task(work())
    await asyncio.sleep(0)
    t.cancel("m1")
    await asyncio.wait([t])
    try:
        t.result()
    except asyncio.CancelledError as e:
        print("result() first:", e.args)
    try:
        await t
    except asyncio.CancelledError as e:
        print("await after:", e.args)


asyncio.run(main())
asyncio.run(await_after_result())
print("done")
