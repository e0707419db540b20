# CPython's writer API on a stream: writelines, is_closing, can_write_eof, write_eof (the
# peer reads to the end while this side still reads the reply), get_extra_info('sockname').
import asyncio

PORT = 18342


async def count(reader, writer):
    # Reads everything until the client's write_eof, then answers on the same connection.
    data = await reader.read()
    writer.write(b"got %d bytes, %d lines\n" % (len(data), data.count(b"\n")))
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(count, "127.0.0.1", PORT)

    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    host, port = writer.get_extra_info("sockname")[:2]
    print("sockname", host, port > 0 and port != PORT)
    print("can_write_eof", writer.can_write_eof())
    print("is_closing", writer.is_closing())
    writer.writelines([b"alpha\n", bytearray(b"beta\n"), memoryview(b"gamma\n")])
    writer.writelines(iter([b"x" * 4000000, b"\n"]))
    try:
        writer.writelines([b"ok\n", "text\n"])
    except TypeError as e:
        print("TypeError", e)
    writer.write_eof()
    writer.write_eof()
    try:
        writer.write(b"more")
    except RuntimeError as e:
        print("RuntimeError", e)
    print(await reader.readline())
    print(await reader.read())
    writer.close()
    print("is_closing after close", writer.is_closing())
    await writer.wait_closed()

    # write_eof with nothing written: the peer sees the end at once.
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write_eof()
    print(await reader.read())
    writer.close()
    await writer.wait_closed()

    server.close()
    await server.wait_closed()
    print("done")


asyncio.run(main())
