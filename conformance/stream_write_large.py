# One write of 3 MB goes out whole; drain waits for it; the reader sees every byte in order.
import asyncio
import binascii

PORT = 18302
SIZE = 3 * 1024 * 1024
DATA = bytes(range(256)) * (SIZE // 256)


async def server_cb(reader, writer):
    got = await reader.read(-1)
    print("server got", len(got), "bytes, crc", binascii.crc32(got))
    writer.write(b"ok\n")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    print("sending", len(DATA), "bytes, crc", binascii.crc32(DATA))
    writer.write(DATA)
    await writer.drain()
    print("drained")
    # Half-close by closing the socket after the drain: the server reads to the end.
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
