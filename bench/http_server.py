# http (bench/run's name for this script; `http.py` would shadow the http package): serves
# _webapp.py's JSON API over HTTP/1.1 on 127.0.0.1 with asyncio.start_server, one task per
# connection, keep-alive unless the client asks for `Connection: close` (or speaks HTTP/1.0).
# Prints `http ready PORT` once it listens, then serves until it is killed; bench/run drives it
# with wrk (bench/http_mix.lua) and reports requests/s and p99 latency.
# Usage: http_server.py [PORT] [SECONDS] (SECONDS: stop after that long; default: never).
# Runs unchanged under microloop, CPython 3 and MicroPython.
import asyncio
import sys

import _webapp

PORT = 18911
BLANK = (b"\r\n", b"\n")

app = _webapp.make_app()
served = [0]


async def read_request(reader):
    """The next request on the connection, or None at its end."""
    line = await reader.readline()
    while line in BLANK:  # tolerated before a request line (RFC 9112, 2.2)
        line = await reader.readline()
    if not line:
        return None
    request = _webapp.parse_request_line(line)
    while True:
        line = await reader.readline()
        if not line:
            return None
        if line in BLANK:
            break
        _webapp.parse_header(request, line)
    length = request.content_length
    if length:
        request.body = await reader.readexactly(length)
    return request


async def serve(reader, writer):
    try:
        while True:
            try:
                request = await read_request(reader)
                if request is None:
                    break
                keep_alive = request.keep_alive
                response = app.dispatch(request)
            except _webapp.HTTPError as error:
                keep_alive = False
                response = _webapp.error_response(error)
            writer.write(response.encode(keep_alive))
            await writer.drain()
            served[0] += 1
            if not keep_alive:
                break
    except (OSError, EOFError):
        pass  # the client went away mid-request (wrk does, when its time is up)
    try:
        writer.close()
        await writer.wait_closed()
    except OSError:
        pass


async def main(port, seconds):
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=128)
    print("http ready", port)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()
    if seconds is None:
        while True:
            await asyncio.sleep(3600)
    await asyncio.sleep(seconds)
    server.close()
    await server.wait_closed()
    print("http served", served[0], "requests")


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else PORT, float(sys.argv[2]) if len(sys.argv) > 2 else None))
