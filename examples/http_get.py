# An HTTP/1.0 request over asyncio streams, to a small server this script starts itself.
#
#   microloop examples/http_get.py [PORT]
#
# The server task answers each request with a short page and closes the connection, as
# HTTP/1.0 does; the client reads the response until the end of the stream.
import asyncio
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

PAGE = b"<html><body>Hello from microloop</body></html>\n"


async def serve(reader, writer):
    request = await reader.readline()
    # Skip the headers, up to the empty line.
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    method, path, version = request.decode().split()
    if method == "GET" and path == "/":
        head = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(PAGE)
        writer.write(head.encode() + PAGE)
    else:
        writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def get(host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
    await writer.drain()
    response = await reader.read(-1)
    writer.close()
    await writer.wait_closed()
    return response


async def main():
    server = await asyncio.start_server(serve, HOST, PORT)
    for path in ("/", "/missing"):
        response = await get(HOST, PORT, path)
        head, _, body = response.partition(b"\r\n\r\n")
        print("GET", path)
        for line in head.decode().split("\r\n"):
            print("  " + line)
        print("  body:", body)
    server.close()
    await server.wait_closed()


asyncio.run(main())
