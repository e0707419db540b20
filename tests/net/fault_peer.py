# Conversations with peers that misbehave, for tests/stream_faults.rs; runs unchanged under
# microloop and MicroPython's unix port. The peer sends bytes,
# then closes, half-closes or resets; this side reads with one method until the stream ends,
# echoing what each read returned when asked to, and prints one line per conversation:
#   IDENT METHOD END HEX
# END is "eof" (the read method's end of stream), "EOFError" (readexactly) or "OSError:N";
# HEX is every byte received, or "-". Then, once all conversations are over:
#   fds BEFORE AFTER tasks STARTED FINISHED
# counting this process's descriptors before the first listener or connection and after the
# last one closed, and the conversation tasks started and finished.
#
# usage: fault_peer.py server PORT*10 CONTROL_PORT
#   listens on the ten ports: PORTS[j] reads with METHODS[j % 5], echoing if j < 5; IDENT is
#   the peer's address (each peer connects from its own). A line on CONTROL_PORT ends the run.
# usage: fault_peer.py client PORT N BATCH RESET_PORT RESETS
#   N conversations with PORT, BATCH at a time: conversation i first sends b"i\n", then reads
#   with METHODS[i % 5], echoing if (i // 5) % 2 == 0; IDENT is i. Then RESETS connections to
#   RESET_PORT, whose peer resets them at once (IDENT x0, x1...): each sends b"x\n" first.
# usage: fault_peer.py late PORT GO_PORT N
#   N conversations on PORT, one after the other, none echoing: each waits before its first
#   read for a line on GO_PORT naming its method (the peer sends it once it has sent its
#   bytes and closed or reset, so that they all wait in the kernel). IDENT is the peer's
#   address.
import asyncio
import os
import sys

METHODS = ("readline", "read3", "readall", "readexactly4", "readinto5")
stats = {"started": 0, "finished": 0}


def fds():
    return len(os.listdir("/proc/self/fd"))


def peer_host(writer):
    # A (host, port) tuple; MicroPython's unix port gives the raw sockaddr (family, port and
    # IPv4 address in its first 8 bytes), so that this script runs there too.
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple):
        return peer[0]
    return ".".join(str(b) for b in peer[4:8])


async def read_once(reader, method, buf):
    if method == "readline":
        return await reader.readline()
    if method == "read3":
        return await reader.read(3)
    if method == "readall":
        return await reader.read()
    if method == "readexactly4":
        return await reader.readexactly(4)
    n = await reader.readinto(buf)
    return bytes(buf[:n])


async def converse(ident, reader, writer, method, echo, first=b""):
    stats["started"] += 1
    got = b""
    end = "eof"
    buf = bytearray(5)
    try:
        if first:
            writer.write(first)
            await writer.drain()
        while True:
            data = await read_once(reader, method, buf)
            if not data:
                break
            got += data
            if echo:
                writer.write(data)
                await writer.drain()
    except EOFError:
        end = "EOFError"
    except OSError as e:
        end = "OSError:%d" % e.errno
    writer.close()
    await writer.wait_closed()
    stats["finished"] += 1
    print(ident, method, end, got.hex() if got else "-")


async def server(ports, control):
    before = fds()
    stop = asyncio.Event()

    def handler(j):
        async def handle(reader, writer):
            await converse(peer_host(writer), reader, writer, METHODS[j % 5], j < 5)

        return handle

    async def ctl(reader, writer):
        await reader.readline()
        writer.close()
        await writer.wait_closed()
        stop.set()

    servers = []
    for j, port in enumerate(ports):
        servers.append(await asyncio.start_server(handler(j), "127.0.0.1", port))
    servers.append(await asyncio.start_server(ctl, "127.0.0.1", control))
    print("listening")
    await stop.wait()
    for s in servers:
        s.close()
        await s.wait_closed()
    print("fds", before, fds(), "tasks", stats["started"], stats["finished"])


async def client_one(port, ident, method, echo, first):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        print(ident, method, "open-OSError:%d" % e.errno, "-")
        return
    await converse(ident, reader, writer, method, echo, first)


async def client(port, n, batch, reset_port, resets):
    before = fds()
    for start in range(0, n, batch):
        await asyncio.gather(
            *[
                client_one(port, i, METHODS[i % 5], (i // 5) % 2 == 0, b"%d\n" % i)
                for i in range(start, min(n, start + batch))
            ]
        )
    await asyncio.gather(
        *[client_one(reset_port, "x%d" % k, METHODS[k % 5], False, b"x\n") for k in range(resets)]
    )
    print("fds", before, fds(), "tasks", stats["started"], stats["finished"])


async def late(port, go_port, n):
    before = fds()
    go = asyncio.Event()
    plan = []
    done = asyncio.Event()

    async def handle(reader, writer):
        await go.wait()
        go.clear()
        await converse(peer_host(writer), reader, writer, plan.pop(), False)
        if stats["finished"] == n:
            done.set()

    async def ctl(reader, writer):
        plan.append((await reader.readline()).strip().decode())
        writer.close()
        await writer.wait_closed()
        go.set()

    servers = [
        await asyncio.start_server(handle, "127.0.0.1", port),
        await asyncio.start_server(ctl, "127.0.0.1", go_port),
    ]
    print("listening")
    await done.wait()
    for s in servers:
        s.close()
        await s.wait_closed()
    print("fds", before, fds(), "tasks", stats["started"], stats["finished"])


if sys.argv[1] == "server":
    ports = [int(p) for p in sys.argv[2:12]]
    asyncio.run(server(ports, int(sys.argv[12])))
elif sys.argv[1] == "late":
    asyncio.run(late(*[int(a) for a in sys.argv[2:5]]))
else:
    asyncio.run(client(*[int(a) for a in sys.argv[2:7]]))
