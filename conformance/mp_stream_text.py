# Streams over text objects read characters (read(n) gives a str of n characters,
# readexactly(n) n characters as bytes; readline and read() give bytes, as MicroPython's
# Stream gathers them), and write()/awrite() take a str as its UTF-8 bytes.
import asyncio
import os
import sys

NAME = "mp_stream_text.tmp"


def show(x):
    print(type(x).__name__, x if isinstance(x, bytes) else x.encode())


async def main():
    with open(NAME, "wb") as f:
        f.write(b"h\xc3\xa9llo\nw\xc3\xa9x\xc3\xa9yz\nend\xe2\x82\xac")
    f = open(NAME)
    s = asyncio.StreamReader(f)
    show(await s.read(3))
    show(await s.readline())
    show(await s.read(2))
    show(await s.readexactly(2))
    show(await s.read(0))
    show(await s.read(5))
    show(await s.read(3))
    show(await s.read())
    f.close()
    f = open(NAME, "rb")
    s = asyncio.StreamReader(f)
    show(await s.read(3))
    show(await s.read())
    f.close()
    os.remove(NAME)

    w = asyncio.StreamWriter(sys.stdout, {})
    w.write("h\xe9\n")
    await w.drain()
    await w.awrite("ab\xe9\n")
    await w.awrite(b"xyz\n", 1, 1)
    await w.awrite("q\xe9\n", 1, 3)
    await w.awritestr("s\xe9\n")

    # a TCP stream takes str too
    got = []

    async def serve(r, w):
        got.append(await r.read())
        w.close()
        await w.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 18332)
    r, w = await asyncio.open_connection("127.0.0.1", 18332)
    w.write("t\xe9")
    await w.drain()
    await w.awrite("\u20ac!", 1, 3)
    await w.awritestr("\xe9")
    w.close()
    await w.wait_closed()
    await asyncio.sleep_ms(50)
    print(got)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
