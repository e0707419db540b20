# Writing to a stream after closing it raises OSError; the peer reads the end of the stream.
import asyncio

PORT = 18312


async def server_cb(reader, writer):
    writer.write(b"x")
    await writer.drain()
    print("server read", await reader.read(100))
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    print("client read", await reader.read(1))
    writer.close()
    await writer.wait_closed()
    try:
        writer.write(b"more")
        await writer.drain()
    except OSError:
        print("OSError")
    await asyncio.sleep(0.1)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
