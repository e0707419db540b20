# memory: bytes of resident memory per sleeping task: RSS with 20,000 tasks asleep minus RSS
# before they were created, divided by 20,000 (lower is better).
# Runs unchanged under microloop, CPython 3 and MicroPython (Linux: reads /proc/self/status).
import asyncio

TASKS = 20_000


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS")


async def sleeper():
    await asyncio.sleep(3600)


async def main():
    before = rss_bytes()
    tasks = [asyncio.create_task(sleeper()) for _ in range(TASKS)]
    # One pass so every task is started and asleep.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    after = rss_bytes()
    for t in tasks:
        t.cancel()
    return (after - before) // TASKS


print("memory", asyncio.run(main()), "bytes/task")
