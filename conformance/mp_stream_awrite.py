# MicroPython's older stream API: awrite(buf, off, sz), awritestr(s), aclose().
import asyncio

PORT = 18311


async def server_cb(reader, writer):
    print("server got", await reader.read(-1))
    await writer.aclose()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    await writer.awrite(b"0123456789", 2, 3)
    await writer.awrite(b"-abc", 1)
    await writer.awritestr("/text")
    await writer.aclose()
    await asyncio.sleep(0.1)
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
