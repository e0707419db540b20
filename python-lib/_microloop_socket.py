# MicroPython's stream methods for sockets: `read`, `readinto`, `readline` and `write`, which
# MicroPython's socket objects have (its sockets are streams) and programs written for it use
# (micropython-lib's `requests` and `umqtt.simple`, among others). microloop adds these
# functions to the VM's `_socket.socket` type when `_socket` is first imported, so CPython's
# `socket.socket` inherits them; nothing CPython's API has is changed.
#
# As on MicroPython's unix port: on a blocking socket (or one with a timeout) `read(n)`,
# `readinto` and `write` go on until the whole size is done or the peer has closed; on a
# non-blocking socket they take what the kernel has and return None when it has nothing
# (`write`: when it takes nothing). `readline` never reads past the end of the line, so the
# bytes after it stay for the next read or `recv`.

_CHUNK = 4096
_PEEK = 2  # MSG_PEEK on Linux


def _size(n):
    if isinstance(n, int):
        return n
    raise TypeError("can't convert %s to int" % type(n).__name__)


def _view(buf, writable=False):
    if isinstance(buf, str):
        if writable:
            raise TypeError("object with buffer protocol required")
        buf = buf.encode()
    try:
        view = memoryview(buf)
    except TypeError:
        raise TypeError("object with buffer protocol required") from None
    if writable and view.readonly:
        raise TypeError("object with buffer protocol required")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def read(self, n=-1):
    # Until n bytes (all, for a negative n) or the end; on a non-blocking socket what has
    # arrived, None for nothing.
    n = _size(n)
    chunks = []
    have = 0
    while n < 0 or have < n:
        try:
            chunk = self.recv(_CHUNK if n < 0 else n - have)
        except BlockingIOError:
            if not chunks:
                return None
            break
        if not chunk:
            break
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


def readinto(self, buf, nbytes=-1):
    view = _view(buf, True)
    nbytes = _size(nbytes)
    if 0 <= nbytes < len(view):
        view = view[:nbytes]
    have = 0
    while have < len(view):
        try:
            got = self.recv_into(view[have:])
        except BlockingIOError:
            if not have:
                return None
            break
        if not got:
            break
        have += got
    return have


def readline(self, limit=-1):
    limit = _size(limit)
    line = b""
    while limit < 0 or len(line) < limit:
        want = _CHUNK if limit < 0 else min(_CHUNK, limit - len(line))
        try:
            ahead = self.recv(want, _PEEK)
        except BlockingIOError:
            if not line:
                return None
            break
        if not ahead:
            break
        end = ahead.find(b"\n") + 1
        line += self.recv(end or len(ahead))
        if end:
            break
    return line


def write(self, buf, *args):
    view = _view(buf)
    if len(args) > 2:
        raise TypeError("function expected at most 4 arguments, got %d" % (len(args) + 2))
    off, size = 0, -1
    if len(args) == 1:
        size = _size(args[0])
    elif len(args) == 2:
        off, size = _size(args[0]), _size(args[1])
    view = view[min(max(off, 0), len(view)):]
    if size >= 0:
        view = view[:size]
    if self.gettimeout() != 0.0:
        self.sendall(view)
        return len(view)
    done = 0
    while done < len(view):
        try:
            done += self.send(view[done:])
        except BlockingIOError:
            if not done:
                return None
            break
    return done
