# Line-echo server for the two-process tests; runs unchanged under microloop and CPython.
# usage: echo_server.py PORT [BACKLOG] [CERT KEY [CLIENT_CA]]
#   with CERT and KEY: TLS; with CLIENT_CA too: clients must present a certificate it signed.
# Prints "listening" once it accepts connections; a client sending b"quit\n" stops it.
import asyncio
import sys

PORT = int(sys.argv[1])
BACKLOG = int(sys.argv[2]) if len(sys.argv) > 2 else 5
TLS = sys.argv[3:6]

stats = {"conns": 0, "lines": 0, "bytes": 0}
stop = asyncio.Event()


async def handle(reader, writer):
    stats["conns"] += 1
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            if line == b"quit\n":
                stop.set()
                break
            stats["lines"] += 1
            stats["bytes"] += len(line)
            writer.write(line)
            await writer.drain()
    except OSError as e:
        print("connection error:", e)
    writer.close()
    await writer.wait_closed()


async def main():
    ssl_ctx = None
    if TLS:
        import ssl

        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(TLS[0], TLS[1])
        if len(TLS) > 2:
            ssl_ctx.verify_mode = ssl.CERT_REQUIRED
            ssl_ctx.load_verify_locations(cafile=TLS[2])
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=BACKLOG, ssl=ssl_ctx)
    print("listening", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()
    print("served", stats["conns"], "connections,", stats["lines"], "lines,", stats["bytes"], "bytes")


asyncio.run(main())
