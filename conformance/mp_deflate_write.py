# deflate.DeflateIO writing (MicroPython builds it only with MICROPY_PY_DEFLATE_COMPRESS, which
# the unix port lacks): raw, zlib and gzip streams that DeflateIO reads back, with every window
# size, written in pieces, through a stream it closes, and the errors for bad input.
import deflate, io

DATA = b"hello world\n" * 20 + bytes(range(256)) + b"hello world\n" * 3


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


def compress(fmt, wbits=0, pieces=1):
    s = io.BytesIO()
    d = deflate.DeflateIO(s, fmt, wbits)
    step = len(DATA) // pieces + 1
    n = 0
    for i in range(0, len(DATA), step):
        n += d.write(DATA[i:i + step])
    d.close()
    return n, s.getvalue()


for fmt, back in ((deflate.RAW, deflate.RAW), (deflate.ZLIB, deflate.AUTO), (deflate.GZIP, deflate.AUTO), (deflate.AUTO, deflate.RAW)):
    for wbits in (0, 5, 9, 15):
        for pieces in (1, 7):
            n, comp = compress(fmt, wbits, pieces)
            out = deflate.DeflateIO(io.BytesIO(comp), back, 15).read()
            print(fmt, wbits, pieces, n, out == DATA, len(comp) < len(DATA))
print("gzip magic", compress(deflate.GZIP)[1][:3])
print("zlib method", compress(deflate.ZLIB)[1][0] & 15)

s = io.BytesIO()
d = deflate.DeflateIO(s, deflate.ZLIB)
print(d.write(b""), d.write(bytearray(b"abc")), d.write(memoryview(b"defg")))
d.close()
print(deflate.DeflateIO(io.BytesIO(s.getvalue())).read())
attempt("write closed", lambda: d.write(b"x"))
attempt("write str", lambda: deflate.DeflateIO(io.BytesIO()).write("text"))
attempt("write int", lambda: deflate.DeflateIO(io.BytesIO()).write(5))

s = io.BytesIO()
with deflate.DeflateIO(s, deflate.GZIP, 0, True) as d:
    d.write(DATA)
attempt("stream closed", lambda: s.getvalue())

# Both ways on one stream object.
s = io.BytesIO()
d = deflate.DeflateIO(s, deflate.RAW, 8)
d.write(b"ping " * 10)
d.close()
s.seek(0)
print(deflate.DeflateIO(s, deflate.RAW, 8).read())
print("done")
