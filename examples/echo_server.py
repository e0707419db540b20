# A TCP echo server: every line a client sends comes back to it.
#
#   microloop examples/echo_server.py [PORT]
#   then, in another terminal:  nc 127.0.0.1 8000
#
# Each connection runs as its own task; a client that disconnects (or resets) ends only its
# own task. Ctrl-C stops the server.
import asyncio
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8000


async def echo(reader, writer):
    peer = writer.get_extra_info("peername")
    print("connected:", peer)
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except OSError as e:
        print("connection error:", e)
    print("disconnected:", peer)
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(echo, HOST, PORT)
    print("listening on %s:%d" % (HOST, PORT))
    async with server:
        await server.wait_closed()


asyncio.run(main())
