# N tasks each looping k times over sleep(0): the trace is a strict
# round robin, every task taking exactly one step per round.
import asyncio

N = 4
K = 5
trace = []


async def looper(i):
    for k in range(K):
        trace.append((k, i))
        await asyncio.sleep(0)


async def main():
    tasks = [asyncio.create_task(looper(i)) for i in range(N)]
    for t in tasks:
        await t
    for k in range(K):
        row = [i for (kk, i) in trace if kk == k]
        print("round", k, row)
    expected = [(k, i) for k in range(K) for i in range(N)]
    print("strict round robin:", trace == expected)
    print("steps:", len(trace))
    print("done")


asyncio.run(main())
