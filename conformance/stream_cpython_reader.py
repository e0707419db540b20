# CPython's reader API on a stream: async for (lines until the end), at_eof, readuntil with
# IncompleteReadError at the end, and the exception classes themselves.
import asyncio

PORT = 18341


async def sender(reader, writer):
    what = await reader.readline()
    if what == b"lines\n":
        writer.write(b"one\ntwo\nthree")
    elif what == b"until\n":
        writer.write(b"a--b--c")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    e = asyncio.IncompleteReadError(b"abc", 5)
    print(type(e).__name__, isinstance(e, EOFError), e.partial, e.expected)
    print(str(e), e.args)
    e = asyncio.IncompleteReadError(partial=b"", expected=None)
    print(e, e.args, e.expected)
    e = asyncio.LimitOverrunError("too long", 7)
    print(type(e).__name__, isinstance(e, Exception), e.consumed, e.args)

    server = await asyncio.start_server(sender, "127.0.0.1", PORT)

    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"lines\n")
    print("at_eof before", reader.at_eof())
    async for line in reader:
        print("line", line)
    print("at_eof after", reader.at_eof())
    print("read after end", await reader.read())
    writer.close()
    await writer.wait_closed()

    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"until\n")
    print(await reader.readuntil(b"--"))
    print(await reader.readuntil(separator=b"--"))
    try:
        await reader.readuntil(b"")
    except ValueError as e:
        print("ValueError", e)
    try:
        await reader.readuntil(b"--")
    except asyncio.IncompleteReadError as e:
        print("IncompleteReadError", e.partial, e.expected, e)
    print("at_eof", reader.at_eof())
    try:
        await reader.readuntil()
    except EOFError as e:
        print(type(e).__name__, e.partial, e)
    writer.close()
    await writer.wait_closed()

    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
