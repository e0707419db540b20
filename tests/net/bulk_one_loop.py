# Clients and a server in one loop: each client writes 100,000 bytes at once (before the
# server has accepted it: the accept loop takes one connection per round) and then 8 MiB in
# 1 MiB writes, each drained, while the server reads 64 KiB at a time. The receiver's buffer
# fills, so bytes wait in the sender's queue and reach the server only as it reads: every
# read must still see them.
#   microloop bulk_one_loop.py PORT CLIENTS
import asyncio
import sys

PORT = int(sys.argv[1])
CLIENTS = int(sys.argv[2])
EARLY = 100_000
CHUNK = 1 << 20
CHUNKS = 8


async def handle(reader, writer):
    got = 0
    while got < EARLY + CHUNK * CHUNKS:
        data = await reader.read(65536)
        if not data:
            break
        got += len(data)
    print("server got", got)
    writer.write(b"ok")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client():
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"e" * EARLY)
    chunk = b"x" * CHUNK
    for _ in range(CHUNKS):
        writer.write(chunk)
        await writer.drain()
    print("client got", await reader.read(10))
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    await asyncio.gather(*[client() for _ in range(CLIENTS)])
    server.close()
    await server.wait_closed()


asyncio.run(main())
