# A server whose handler writes a line and returns without closing the stream. Once nothing
# refers to the stream any more, its socket closes: the client reads the line, then the end.
# Serves until killed. Argument: the port.
import asyncio
import sys


async def handler(reader, writer):
    writer.write(b"bye\n")
    await writer.drain()


async def main():
    await asyncio.start_server(handler, "127.0.0.1", int(sys.argv[1]))
    print("listening", flush=True)
    while True:
        await asyncio.sleep(3600)


asyncio.run(main())
