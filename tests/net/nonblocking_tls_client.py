# A client on a TLS socket that does not block, MicroPython's way: write, select.poll for the
# echo, readline, write and close at once; runs unchanged under microloop and MicroPython
# against echo_server.py. The handshake happens along the way (the socket cannot block for
# it), and close must send what write took (echo_server stops on "quit").
# usage: nonblocking_tls_client.py PORT
import select
import socket
import ssl
import sys

s = socket.socket()
s.connect(socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1])
s.setblocking(False)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost")
print("write", t.write(b"one\ntwo\n"))
poller = select.poll()
poller.register(t, select.POLLIN)
lines = []
while len(lines) < 2:
    if not poller.poll(10000):
        print("poll timed out with", lines)
        break
    line = t.readline()
    if line:
        lines.append(line)
print(lines)
print("write", t.write(b"quit\n"))
t.close()
print("closed")
