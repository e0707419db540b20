# 200 clients at once, each with its own conversation, all answered in full. The backlog
# is raised from its default of 5: a burst of connects overflowing it gets resets from the
# kernel, under any implementation.
import asyncio

PORT = 18309
N = 200


async def server_cb(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line[:-1][::-1] + b"\n")
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(i):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    replies = []
    for j in range(3):
        writer.write(str(i * 10 + j).encode())
        writer.write(b"\n")
        await writer.drain()
        replies.append(await reader.readline())
    writer.close()
    await writer.wait_closed()
    return replies


async def main():
    server = await asyncio.start_server(server_cb, "127.0.0.1", PORT, backlog=N)
    results = await asyncio.gather(*[client(i) for i in range(N)])
    ok = all(r == [str(i * 10 + j)[::-1].encode() + b"\n" for j in range(3)] for i, r in enumerate(results))
    print(len(results), "clients answered in full:", ok)
    print(results[0], results[N - 1])
    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
