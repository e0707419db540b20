# A client on a plain blocking socket, MicroPython's way (socket.write/readline/read), over TLS
# when given a CA; runs unchanged under microloop and MicroPython against echo_server.py.
# usage: blocking_client.py PORT [CAFILE SERVER_HOSTNAME | none]
#   "none": TLS through ssl.wrap_socket without verification.
import socket
import sys

PORT = int(sys.argv[1])
TLS = sys.argv[2:4]

addr = socket.getaddrinfo("127.0.0.1", PORT)[0][-1]
s = socket.socket()
s.connect(addr)
if TLS and TLS[0] == "none":
    import ssl

    s = ssl.wrap_socket(s)
elif TLS:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=TLS[0])
    s = ctx.wrap_socket(s, server_hostname=TLS[1])
if TLS and hasattr(s, "getpeercert"):
    # The server's certificate, in DER: a SEQUENCE. (MicroPython's PyPI build, built without
    # it, prints nothing here; its multi_net test sslcontext_getpeercert shows the method.)
    print("peer certificate", s.getpeercert(True)[:1])

s.write(b"GET / HTTP/1.0\n")
print(s.readline())
s.write("text is sent as UTF-8: \u00e9\n")
print(s.readline())
big = b"".join(b"%05d" % i + b"." * 90 + b"\n" for i in range(200))
s.write(big)
got = s.read(len(big))
print(len(got), got == big)
buf = bytearray(6)
s.write(b"abcdef\n")
print(s.readinto(buf), bytes(buf), s.readline())
# Nothing is on its way: a socket that is not blocking reads None.
s.setblocking(False)
print(s.read(1), s.readline())
s.setblocking(True)
s.write(b"quit\n")
print(s.read())
s.close()
print("closed")
