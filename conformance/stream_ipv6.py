# Servers and clients work over IPv6 loopback.
import asyncio

PORT = 18308


async def server_cb(reader, writer):
    print("server sees", writer.get_extra_info("peername")[0])
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "::1", PORT)
    reader, writer = await asyncio.open_connection("::1", PORT)
    writer.write(b"over v6\n")
    await writer.drain()
    print(await reader.readline())
    print("client sees", writer.get_extra_info("peername")[:2])
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
