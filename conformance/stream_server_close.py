# A closed server refuses new connections; connections it accepted keep working;
# `async with server` closes it on the way out.
import asyncio

PORT = 18305


async def server_cb(reader, writer):
    line = await reader.readline()
    writer.write(b"echo " + line)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def connect_and_talk(msg):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(msg)
    await writer.drain()
    return reader, writer


async def main():
    async with await asyncio.start_server(server_cb, "127.0.0.1", PORT) as server:
        reader, writer = await connect_and_talk(b"first\n")
        print(await reader.readline())
        writer.close()
        await writer.wait_closed()
        # Accepted before the close, answered after it.
        reader, writer = await connect_and_talk(b"second\n")
        await asyncio.sleep(0.05)
    print("server closed")
    print(await reader.readline())
    writer.close()
    await writer.wait_closed()
    try:
        await asyncio.open_connection("127.0.0.1", PORT)
    except OSError as e:
        print("refused:", e.errno)
    print("done")


asyncio.run(main())
