# Client for echo_server.py; runs unchanged under microloop and CPython.
# usage: echo_client.py PORT [CAFILE SERVER_HOSTNAME [CERT KEY]]
#   with CAFILE: TLS, verified against it; with CERT and KEY: a client certificate too.
# Sends lines with every byte value and an empty line, then 1 MB of lines in one write (lines
# stay under CPython's 64 KiB readline limit); checks every echo.
import asyncio
import sys

PORT = int(sys.argv[1])
TLS = sys.argv[2:6]


def payloads():
    yield b"hello\n"
    yield bytes(b for b in range(256) if b != 10) + b"\n"
    yield b"\n"
    yield b"".join(b"%07d" % i + b"." * 1015 + b"\n" for i in range(1024))
    yield b"\x00\xff\r\n"


async def main():
    ssl_ctx = None
    kwargs = {}
    if TLS:
        import ssl

        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ssl_ctx.load_verify_locations(cafile=TLS[0])
        kwargs["server_hostname"] = TLS[1]
        if len(TLS) > 2:
            ssl_ctx.load_cert_chain(TLS[2], TLS[3])
    try:
        # CPython runs the TLS handshake here, MicroPython and microloop at the first write.
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT, ssl=ssl_ctx, **kwargs)
        for p in payloads():
            writer.write(p)
            await writer.drain()
            echo = b""
            while len(echo) < len(p):
                echo += await reader.readline()
            print(len(p), "bytes echoed", "exactly" if echo == p else "WRONG")
    except (OSError, ValueError) as e:
        # Verification failures are ValueErrors in MicroPython and OSErrors in CPython: both
        # are caught here and shown the same way.
        print("failed:", isinstance(e, ValueError), str(e).strip())
        return
    writer.write(b"quit\n")
    await writer.drain()
    print("server closed:", await reader.read(-1) == b"")
    writer.close()
    await writer.wait_closed()


asyncio.run(main())
