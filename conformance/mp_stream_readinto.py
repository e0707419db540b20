# Stream.readinto fills a bytearray or an array and returns the count; a non-buffer argument
# is a TypeError. (CPython's StreamReader has no readinto.)
import asyncio
import array

PORT = 18310


async def server_cb(reader, writer):
    writer.write(b"abc")
    await writer.drain()
    await reader.read(1)
    writer.write(b"yz")
    await writer.drain()
    await reader.read(1)
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    buf = bytearray(2)
    print(await reader.readexactly(0), await reader.readinto(buf), buf)
    arr = array.array("b", [0, 0])
    print(await reader.readinto(arr), arr)
    writer.write(b"x")
    await writer.drain()
    for bad in (5, None):
        try:
            await reader.readinto(bad)
        except TypeError:
            print("TypeError")
    print(await reader.readinto(buf), buf)
    writer.write(b"x")
    await writer.drain()
    print(await reader.readinto(buf))
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
