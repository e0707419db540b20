# asyncio.StreamReader / StreamWriter over Python objects that have no descriptor, only
# methods: a device driver written in Python, or a test double. write() hands the bytes to the
# object at once when nothing is queued and queues what it did not take; drain() gives the
# queue to the object until it is empty; reads call the object and try again on None. Before
# each call the object's ioctl(3, event) (MicroPython's poll request) says whether it is ready.
# (MicroPython's poller takes a Python object's ioctl only from an io.IOBase subclass.)
import asyncio
import io


class Device(io.IOBase):
    """Takes at most `chunk` bytes per write; reads come from `script`, where None stands for
    'nothing available yet'."""

    def __init__(self, chunk, script):
        self.chunk = chunk
        self.script = list(script)
        self.taken = b""
        self.shut = False

    def ioctl(self, req, arg):
        if req != 3:
            return -1
        return arg

    def write(self, buf):
        data = buf.encode() if isinstance(buf, str) else bytes(buf)
        print("write", type(buf).__name__, data)
        if self.chunk == 0:
            return None
        n = min(self.chunk, len(data))
        self.taken += data[:n]
        return n

    def read(self, n=-1):
        item = self.script.pop(0) if self.script else b""
        print("read", n, "->", item if item is None or isinstance(item, bytes) else type(item).__name__)
        return item

    def readline(self):
        item = self.script.pop(0) if self.script else b""
        print("readline ->", item)
        return item

    def close(self):
        # (Not printed: the VM's io.IOBase also closes an object when it is collected.)
        self.shut = True


async def ticker(n):
    for i in range(n):
        print("tick", i)
        await asyncio.sleep(0)


async def main():
    # Nothing queued: the object gets the buffer itself, and takes all of it.
    w = asyncio.StreamWriter(Device(100, []), {})
    w.write(b"ab")
    w.write(bytearray(b"cd"))
    await w.drain()
    print("drained")

    # The object takes two bytes at a time: the rest waits for drain().
    dev = Device(2, [])
    w = asyncio.StreamWriter(dev, {})
    w.write(b"hello")
    w.write(b"!")
    print("before drain", dev.taken)
    t = asyncio.create_task(ticker(3))
    await w.drain()
    print("after drain", dev.taken)
    await t

    # Reads: None means "not yet"; each read gives the loop a turn first.
    dev = Device(1, [None, b"xy", b"par", None, b"tial\n", b"abc", b"de", b""])
    r = asyncio.StreamReader(dev)
    t = asyncio.create_task(ticker(4))
    print("read ->", await r.read(10))
    print("readline ->", await r.readline())
    print("readexactly ->", await r.readexactly(5))
    try:
        await r.readexactly(1)
    except EOFError:
        print("EOFError")
    await t
    closing = r.wait_closed()
    print("wait_closed not awaited yet", dev.shut)
    await closing
    print("closed", dev.shut)

    # What the caller gave reaches the object as it is: a str, a bytearray, a memoryview of
    # the part awrite() was asked to send.
    w = asyncio.StreamWriter(Device(100, []), {})
    w.write("text")
    await w.awrite(bytearray(b"abcdef"), 1, 3)
    await w.awritestr("str")
    # Answers that are other buffers count as their bytes; readexactly(0) asks nothing.
    r = asyncio.StreamReader(Device(1, [memoryview(b"mv"), b""]))
    print("readexactly(0) ->", await r.readexactly(0))
    print("read() ->", await r.read())


asyncio.run(main())
