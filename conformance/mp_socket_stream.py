# MicroPython's sockets are streams: read, readinto, readline and write on blocking and
# non-blocking sockets (None when a non-blocking socket has nothing), and their bad input.
import socket
import time

addr = socket.getaddrinfo("127.0.0.1", 18330)[0][-1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(addr)
srv.listen(1)
c = socket.socket()
c.connect(addr)
a, _ = srv.accept()

print([n for n in ("read", "write", "readline", "readinto") if hasattr(c, n)])
print(c.write(b"hello\nwor"))
print(c.write("ld\n\xe9"))
print(a.readline(), a.readline())
a.setblocking(False)
print(a.read(10), a.read(10), a.readline())
buf = bytearray(5)
print(a.readinto(buf))
c.write(b"abcdefgh")
time.sleep_ms(20)
print(a.readinto(buf, 3), buf)
print(a.readinto(buf), buf)
print(a.read())
c.write(b"xyz")
time.sleep_ms(20)
print(a.read())
c.write(b"line one\nline")
time.sleep_ms(20)
print(a.readline(4), a.readline(), a.readline(), a.readline())
c.write(b"rest\n")
time.sleep_ms(20)
print(a.recv(100))
c.write(b"0123456789", 3)
c.write(b"0123456789", 5, 2)
c.write(b"0123456789", 8, 100)
time.sleep_ms(20)
print(a.read(100))

# a non-blocking writer: partial writes, then None when the kernel takes nothing
c.setblocking(False)
total = 0
chunk = b"x" * 65536
partial = False
while True:
    r = c.write(chunk)
    if r is None:
        break
    total += r
    partial = partial or r < len(chunk)
print("filled, then None")
got = 0
a.setblocking(True)
while got < total:
    got += len(a.read(min(65536, total - got)))
print("read back", got == total)

for bad in (123, None, [1]):
    try:
        c.write(bad)
    except TypeError as e:
        print("write", e)
for bad in ("x", None, 1.5):
    try:
        a.read(bad)
    except TypeError as e:
        print("read", e)
for bad in (b"imm", "s", 5):
    try:
        a.readinto(bad)
    except TypeError as e:
        print("readinto", e)

c.setblocking(True)
c.write(b"tail")
c.close()
time.sleep_ms(20)
print(a.read(10))
print(a.read(), a.read(3), a.readline(), a.readinto(buf))
a.close()
try:
    a.read()
except OSError as e:
    print("closed read", e.errno)
try:
    a.write(b"x")
except OSError as e:
    print("closed write", e.errno)
srv.close()
print("done")
