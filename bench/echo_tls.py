# echo_tls: echo over TLS: 50 clients x 1,000 line round trips to a TLS echo server in the same
# process, over loopback; prints round trips per second. The certificate is the one bench/run
# generates in bench/tls/ (a self-signed certificate for 127.0.0.1, which the clients trust).
# Runs unchanged under microloop, CPython 3 and MicroPython; MicroPython reads the DER copies,
# since its build on PyPI parses no PEM keys.
import asyncio
import ssl
import sys
import time

CLIENTS = 50
ROUNDS = 1000
PORT = 18902
LINE = b"x" * 63 + b"\n"
FORM = "der" if sys.implementation.name == "micropython" else "pem"
CERT = "tls/cert." + FORM
KEY = "tls/key." + FORM


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


async def client(ctx):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT, ssl=ctx, server_hostname="127.0.0.1")
    for _ in range(ROUNDS):
        writer.write(LINE)
        await writer.drain()
        await reader.readline()
    writer.close()
    await writer.wait_closed()


async def main():
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(CERT, KEY)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cafile=CERT)
    server = await asyncio.start_server(serve, "127.0.0.1", PORT, backlog=CLIENTS, ssl=server_ctx)
    start = now_s()
    await asyncio.gather(*[client(client_ctx) for _ in range(CLIENTS)])
    elapsed = now_s() - start
    server.close()
    await server.wait_closed()
    return elapsed


elapsed = asyncio.run(main())
print("echo_tls", int(CLIENTS * ROUNDS / elapsed), "round-trips/s")
