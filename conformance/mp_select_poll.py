# select.poll over objects without a descriptor (io.IOBase subclasses answering
# ioctl(MP_STREAM_POLL)), a ThreadSafeFlag, and descriptors mixed with them.
import asyncio
import io
import select
import socket
import time

MP_STREAM_POLL = 3


class Dev(io.IOBase):
    def __init__(self, name):
        self.name = name
        self.ready = 0
        self.asked = []

    def ioctl(self, req, arg):
        self.asked.append((req, arg))
        if req == MP_STREAM_POLL:
            return arg & self.ready
        return -1

    def __repr__(self):
        return "<Dev %s>" % self.name


def show(result):
    return sorted((repr(o), ev) for o, ev in result)


p = select.poll()
d = Dev("a")
p.register(d, select.POLLIN)
print(show(p.poll(0)))
d.ready = select.POLLIN
print(show(p.poll(0)))
print(d.asked)
d.ready = select.POLLIN | select.POLLOUT
print(show(p.poll(0)))
p.modify(d, select.POLLIN | select.POLLOUT)
print(show(p.poll(10)))
for obj, ev in p.ipoll(0, 1):
    print("ipoll oneshot", obj, ev)
print(show(p.poll(0)), d.asked[-1])
p.modify(d, select.POLLOUT)
print(show(p.poll(0)))
p.unregister(d)
p.unregister(d)
print(show(p.poll(0)))
try:
    p.modify(d, select.POLLIN)
except OSError as e:
    print("modify", e.errno)

# timeouts: nothing ready
e = Dev("idle")
p.register(e)
t = time.ticks_ms()
print(show(p.poll(30)), time.ticks_diff(time.ticks_ms(), t) >= 30)
print(len(e.asked) > 2)
t = time.ticks_ms()
print(select.poll().poll(30), time.ticks_diff(time.ticks_ms(), t) >= 30)

# descriptors and ioctl objects together
addr = socket.getaddrinfo("127.0.0.1", 18331)[0][-1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(addr)
srv.listen(1)
c = socket.socket()
c.connect(addr)
a, _ = srv.accept()
p2 = select.poll()
p2.register(a, select.POLLIN)
dev = Dev("b")
p2.register(dev, select.POLLIN)
print(show(p2.poll(0)))
c.write(b"x")
r = p2.poll(1000)
print(len(r), r[0][0] is a, r[0][1])
dev.ready = select.POLLIN
print(len(p2.poll(0)))
a.read(1)
print([ev for o, ev in p2.poll(0)], p2.poll(0)[0][0] is dev)
dev.ready = 0
p2.register(c, select.POLLOUT)
print([(o is c, ev) for o, ev in p2.poll(0)])
p2.unregister(c)
p2.unregister(a)
print(p2.poll(0))
c.close()
a.close()
srv.close()

# errors from ioctl and from register
class Failing(io.IOBase):
    def ioctl(self, req, arg):
        return -11 if req == MP_STREAM_POLL else -22


p3 = select.poll()
p3.register(Failing())
try:
    p3.poll(0)
except OSError as e:
    print("ioctl error", e.errno)
try:
    select.poll().register(object())
except OSError as e:
    print("register", e.args)


class NoIoctl(io.IOBase):
    pass


try:
    select.poll().register(NoIoctl())
except AttributeError as e:
    print("AttributeError")
try:
    select.poll().register(Dev("c"), "x")
except TypeError as e:
    print("register", e)
try:
    select.poll().poll("x")
except TypeError as e:
    print("poll", e)

# a ThreadSafeFlag is a pollable object too
tsf = asyncio.ThreadSafeFlag()
print(hasattr(tsf, "ioctl"), tsf.ioctl(MP_STREAM_POLL, 1), tsf.ioctl(10, 0))
p4 = select.poll()
p4.register(tsf, select.POLLIN)
print(p4.poll(0))
tsf.set()
print([ev for o, ev in p4.poll(0)], [ev for o, ev in p4.poll(0)])
print(type(p4).__name__)
print("done")
