# A read cancelled by a timeout loses no bytes: what arrived before the cancel is still there.
import asyncio

PORT = 18303


async def server_cb(reader, writer):
    writer.write(b"hel")
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.write(b"lo\nwor")
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.write(b"ld!")
    await writer.drain()
    await reader.read(10)
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    try:
        await asyncio.wait_for(reader.readline(), 0.05)
    except asyncio.TimeoutError:
        print("readline timed out")
    print(await reader.readline())
    try:
        await asyncio.wait_for(reader.readexactly(6), 0.05)
    except asyncio.TimeoutError:
        print("readexactly timed out")
    print(await reader.readexactly(6))
    writer.write(b"bye")
    await writer.drain()
    print(await reader.read(-1))
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
