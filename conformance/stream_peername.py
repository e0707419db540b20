# get_extra_info('peername') gives (host, port) on both sides.
import asyncio

PORT = 18304


async def server_cb(reader, writer):
    host, port = writer.get_extra_info("peername")[:2]
    print("server sees client at", host, port > 0)
    writer.write(b"hi")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    print(await reader.read(10))
    print("client sees server at", writer.get_extra_info("peername")[:2])
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
