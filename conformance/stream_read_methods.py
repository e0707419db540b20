import asyncio

PORT = 18301

async def server_cb(reader, writer):
    writer.write(b"line one\nline two\npartial")
    await writer.drain()
    data = await reader.read(100)
    print("server got", data)
    writer.close()
    await writer.wait_closed()

async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT)
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    print(await reader.readline())
    print(await reader.readexactly(4))
    print(await reader.read(3))
    writer.write(b"ping")
    await writer.drain()
    print(await reader.read(-1))
    print(await reader.read(10))
    print(await reader.readline())
    try:
        await reader.readexactly(1)
    except EOFError:
        print("EOFError")
    print(await reader.readexactly(0))
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print("done")

asyncio.run(main())
