# CPython's Server API: sockets, is_serving, get_loop, start_serving, serve_forever (ended by
# close() with CancelledError, or cancelled, which closes the server), async with.
import asyncio

PORT = 18340


async def echo(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def ask(port, text):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text)
    reply = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return reply


async def main():
    # Port 0: the kernel picks one; sockets[0].getsockname() tells which.
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    socks = server.sockets
    print("sockets", type(socks).__name__, len(socks))
    host, port = socks[0].getsockname()
    print("sockname", host, port > 0)
    print("fileno", socks[0].fileno() >= 0)
    print("is_serving", server.is_serving())
    print("get_loop", server.get_loop() is asyncio.get_running_loop())
    print("start_serving", await server.start_serving())
    print("reply", await ask(port, b"zero\n"))
    server.close()
    print("closed: is_serving", server.is_serving(), "sockets", server.sockets)
    await server.wait_closed()
    try:
        await server.serve_forever()
    except RuntimeError as e:
        print("RuntimeError", e)

    # serve_forever ended by close() from another task: CancelledError in the awaiting task.
    server = await asyncio.start_server(echo, "127.0.0.1", PORT)

    async def client_then_close():
        print("reply", await ask(PORT, b"one\n"))
        server.close()

    asyncio.create_task(client_then_close())
    try:
        await server.serve_forever()
    except asyncio.CancelledError:
        print("serve_forever: CancelledError after close, is_serving", server.is_serving())
    await server.wait_closed()

    # A second serve_forever while one is awaited is a RuntimeError.
    server = await asyncio.start_server(echo, "127.0.0.1", PORT)
    forever = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    try:
        await server.serve_forever()
    except RuntimeError as e:
        print("second serve_forever:", "already being awaited" in str(e))

    # Cancelling the task in serve_forever closes the server.
    forever.cancel()
    try:
        await forever
    except asyncio.CancelledError:
        print("cancelled: is_serving", server.is_serving(), "sockets", server.sockets)
    try:
        await ask(PORT, b"x\n")
    except OSError:
        print("connect after cancel: OSError")

    # async with: __aenter__ gives the server, __aexit__ closes it.
    async with await asyncio.start_server(echo, "127.0.0.1", PORT) as server:
        print("async with: is_serving", server.is_serving())
        print("reply", await ask(PORT, b"two\n"))
    print("after async with: is_serving", server.is_serving())

    # The usual shape: serve_forever in async with, the task cancelled from outside.
    listening = asyncio.Event()

    async def serve():
        async with await asyncio.start_server(echo, "127.0.0.1", PORT) as srv:
            listening.set()
            await srv.serve_forever()

    task = asyncio.create_task(serve())
    await listening.wait()
    print("reply", await ask(PORT, b"three\n"))
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("serve task cancelled")
    print("done")


asyncio.run(main())
