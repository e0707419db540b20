# A peer that resets its connection fails only that connection: the reading task gets
# OSError(ECONNRESET) and the server keeps accepting.
import asyncio
import socket
import struct

PORT = 18306


async def server_cb(reader, writer):
    print("server read", await reader.read(4))
    await asyncio.sleep(0.1)
    try:
        print("server read", await reader.read(100))
    except OSError as e:
        print("server read failed, errno", e.errno)
    writer.close()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    # A plain blocking socket that sends a request and closes with a reset (SO_LINGER 0).
    s = socket.socket()
    s.connect(("127.0.0.1", PORT))
    s.send(b"GET ")
    await asyncio.sleep(0.05)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    await asyncio.sleep(0.2)
    # The server still serves the next client.
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"next")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
