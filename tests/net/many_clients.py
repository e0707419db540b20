# N clients connected to echo_server.py at the same time: all connect first, then each sends a
# line and reads its echo. usage: many_clients.py PORT N
import asyncio
import sys

PORT = int(sys.argv[1])
N = int(sys.argv[2])


async def client(i, connected, go):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    connected.append(i)
    if len(connected) == N:
        go.set()
    await go.wait()
    msg = b"client %d\n" % i
    writer.write(msg)
    await writer.drain()
    ok = await reader.readline() == msg
    writer.close()
    await writer.wait_closed()
    return ok


async def main():
    connected = []
    go = asyncio.Event()
    results = await asyncio.gather(*[client(i, connected, go) for i in range(N)])
    print(len(connected), "connected at once,", results.count(True), "echoed")
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"quit\n")
    await writer.drain()
    await reader.read(-1)
    writer.close()
    await writer.wait_closed()


asyncio.run(main())
