# echo: 50 clients x 1,000 line round trips to an echo server in the same process, over
# loopback TCP; prints round trips per second. Runs unchanged under microloop, CPython 3 and
# MicroPython. (Server and clients share one loop, as CPython's and uvloop's figures do too.)
import asyncio
import time

CLIENTS = 50
ROUNDS = 1000
PORT = 18901
LINE = b"x" * 63 + b"\n"


def now_s():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6


async def serve(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client():
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    for _ in range(ROUNDS):
        writer.write(LINE)
        await writer.drain()
        await reader.readline()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", PORT, backlog=CLIENTS)
    start = now_s()
    await asyncio.gather(*[client() for _ in range(CLIENTS)])
    elapsed = now_s() - start
    server.close()
    await server.wait_closed()
    return elapsed


elapsed = asyncio.run(main())
print("echo", int(CLIENTS * ROUNDS / elapsed), "round-trips/s")
