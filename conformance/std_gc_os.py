# gc.collect() can be called (also in a running loop), and os.sep is "/".
import gc
import os
import asyncio

gc.collect()
print("os.sep:", os.sep)


async def churn():
    junk = [[i] * 10 for i in range(100)]
    del junk
    gc.collect()
    await asyncio.sleep(0)
    return "collected"


print(asyncio.run(churn()))
gc.collect()
print("done")
