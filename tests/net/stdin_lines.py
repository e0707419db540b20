# Reads standard input line by line through asyncio.StreamReader(sys.stdin).
import asyncio
import sys


async def main():
    reader = asyncio.StreamReader(sys.stdin)
    count = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        count += 1
        print("line", count, line)
    print("end of input")


asyncio.run(main())
