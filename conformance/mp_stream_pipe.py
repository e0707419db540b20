# asyncio.StreamReader over a pipe's descriptor: lines arrive as the writer task writes them.
# (MicroPython's unix port has no os.pipe, so the .exp file is written by hand.)
import asyncio
import os


async def writer_task(fd):
    for i in range(3):
        os.write(fd, b"line %d\n" % i)
        await asyncio.sleep_ms(20)
    os.write(fd, b"last, no newline")
    os.close(fd)


async def main():
    r, w = os.pipe()
    reader = asyncio.StreamReader(r)
    t = asyncio.create_task(writer_task(w))
    while True:
        line = await reader.readline()
        if not line:
            break
        print(line)
    await t
    os.close(r)
    print("done")


asyncio.run(main())
