# MicroPython's `deflate` module for microloop: DeflateIO, a stream that decompresses what it
# reads from another stream and compresses what is written to it, built on the VM's zlib.
#
# Errors are MicroPython's: a malformed stream (bad header, bad data, bad checksum) is
# OSError EINVAL, a stream that ends before its compressed data does is EOFError, a closed
# DeflateIO is OSError EINVAL. Differences: decompression always allows a 32 KiB window (a
# stream that needs more window than `wbits` gives decompresses here where MicroPython raises
# EINVAL); compression uses zlib's compressor, with a window of at least 512 bytes, so the
# bytes written differ from MicroPython's (any decompressor reads both).

import zlib as _zlib

AUTO = 0
RAW = 1
ZLIB = 2
GZIP = 3

_EINVAL = 22
_CHUNK = 256


def _int(x):
    if type(x) is int or type(x) is bool:
        return int(x)
    if isinstance(x, int):
        return int(x)
    raise TypeError("can't convert %s to int" % type(x).__name__)


def _einval():
    return OSError(_EINVAL)


class DeflateIO:
    def __init__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("function doesn't take keyword arguments")
        if not args:
            raise TypeError("function missing 1 required positional arguments")
        if len(args) > 4:
            raise TypeError("function expected at most 4 arguments, got %d" % len(args))
        stream = args[0]
        fmt = _int(args[1]) if len(args) > 1 else AUTO
        wbits = _int(args[2]) if len(args) > 2 else 0
        close = bool(args[3]) if len(args) > 3 else False
        if fmt not in (AUTO, RAW, ZLIB, GZIP):
            raise ValueError("format")
        if wbits != 0 and not 5 <= wbits <= 15:
            raise ValueError("wbits")
        self._stream = stream
        self._format = fmt
        self._wbits = wbits
        self._close_stream = close
        self._closed = False
        self._inflater = None
        self._out = b""
        self._pos = 0
        self._eof = False
        self._deflater = None

    # Reading.

    def _stream_read(self, n):
        read = getattr(self._stream, "read", None)
        if read is None:
            raise OSError("stream operation not supported")
        data = read(n)
        return b"" if data is None else bytes(data)

    def _start_inflate(self):
        fmt = self._format
        if fmt == RAW:
            return _zlib.decompressobj(-15)
        if fmt == GZIP:
            return _zlib.decompressobj(31)
        return _zlib.decompressobj(15 if fmt == ZLIB else 47)

    def _fill(self):
        # Decompresses more, into self._out. Returns False at the end of the data.
        if self._eof:
            return False
        if self._inflater is None:
            self._inflater = self._start_inflate()
        chunk = self._stream_read(_CHUNK)
        d = self._inflater
        if not chunk:
            if not d.eof:
                raise EOFError()
            self._eof = True
            return False
        try:
            data = d.decompress(chunk)
        except _zlib.error:
            raise _einval() from None
        if d.eof:
            self._eof = True
        if data:
            self._out = self._out[self._pos:] + data
            self._pos = 0
        return bool(data) or not self._eof

    def _available(self):
        return len(self._out) - self._pos

    def _take(self, n):
        end = self._pos + n
        data = self._out[self._pos:end]
        self._pos = end if end < len(self._out) else len(self._out)
        if self._pos == len(self._out):
            self._out = b""
            self._pos = 0
        return data

    def _check_open(self):
        if self._closed:
            raise _einval()

    def read(self, n=-1):
        self._check_open()
        n = _int(n)
        if n < 0:
            while self._fill():
                pass
            return self._take(self._available())
        while self._available() < n and self._fill():
            pass
        return self._take(min(n, self._available()))

    def readinto(self, buf):
        self._check_open()
        view = memoryview(buf)
        size = len(view)
        while self._available() < size and self._fill():
            pass
        data = self._take(min(size, self._available()))
        view[: len(data)] = data
        return len(data)

    def readline(self, limit=-1):
        self._check_open()
        limit = _int(limit)
        while True:
            end = self._out.find(b"\n", self._pos)
            if end >= 0:
                n = end + 1 - self._pos
                break
            if 0 <= limit <= self._available() or not self._fill():
                n = self._available()
                break
        if 0 <= limit < n:
            n = limit
        return self._take(n)

    # Writing.

    def write(self, data):
        self._check_open()
        try:
            data = bytes(memoryview(data))
        except TypeError:
            raise TypeError("object with buffer protocol required") from None
        if self._deflater is None:
            window = max(self._wbits or 8, 9)
            if self._format == ZLIB:
                wbits = window
            elif self._format == GZIP:
                wbits = 16 + window
            else:
                wbits = -window
            self._deflater = _zlib.compressobj(6, _zlib.DEFLATED, wbits)
        out = self._deflater.compress(data)
        if out:
            self._stream_write(out)
        return len(data)

    def _stream_write(self, data):
        write = getattr(self._stream, "write", None)
        if write is None:
            raise OSError("stream operation not supported")
        write(data)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._deflater is not None:
            tail = self._deflater.flush()
            self._deflater = None
            if tail:
                self._stream_write(tail)
        if self._close_stream:
            self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
