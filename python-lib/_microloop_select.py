# `select.poll` as MicroPython has it: besides descriptors (ints, or objects with `fileno()`),
# it takes objects without one that answer `ioctl(3, events)` (MicroPython's MP_STREAM_POLL)
# with the events among those asked that they are ready for: an `io.IOBase` subclass written
# in Python (a driver), a ThreadSafeFlag. microloop puts `poll` in the VM's `select` module
# when it is first imported; descriptors are still polled by the VM's own poll.
#
# Polling policy, as on MicroPython's unix port: while only descriptors are registered, poll
# sleeps in the kernel for the whole timeout. With ioctl objects registered it asks them at
# once, then every POLL_PERIOD_MS (1 ms, MicroPython's period), sleeping in the kernel on the
# descriptors in between, until one is ready or the timeout has passed: an idle poll(-1)
# costs a kernel wake-up and one `ioctl` call per object each millisecond, not a busy core.

import time

POLLIN = 0x001
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010
POLL_PERIOD_MS = 1

_STREAM_POLL = 3
_STREAM_GET_FILENO = 10
_ALWAYS = POLLERR | POLLHUP | 0x020
_ONESHOT = 1

# The VM's poll class, and a ThreadSafeFlag's state (set when microloop installs this module).
_native = None
_flag_is_set = None


def _flag_ioctl(flag, req, flags):
    # ThreadSafeFlag.ioctl: MP_STREAM_POLL reports the flag, as MicroPython's does.
    if req == _STREAM_POLL:
        return flags if _flag_is_set(flag) else 0
    return -1


def _int(v):
    if isinstance(v, int):
        return v
    raise TypeError("can't convert %s to int" % type(v).__name__)


def _source(obj):
    """(descriptor, None) or (None, ioctl) for a registered object, as MicroPython's poll
    finds them: an int is a descriptor; an object's `fileno()` gives one; otherwise its
    `ioctl(10, 0)` (MP_STREAM_GET_FILENO) may, else it is polled through `ioctl(3, ...)`."""
    if isinstance(obj, int):
        if obj < 0:
            raise ValueError
        return obj, None
    ioctl = getattr(obj, "ioctl", None)
    if ioctl is not None and getattr(obj, "fileno", None) is not None:
        # Both (a TLS socket, whose descriptor does not show the data it has decrypted
        # already; an io.IOBase driver): ioctl first, as MicroPython has only that.
        fd = _int(ioctl(_STREAM_GET_FILENO, 0))
        if fd >= 0:
            return fd, None
        return None, ioctl
    fileno = getattr(obj, "fileno", None)
    if fileno is not None:
        try:
            fd = fileno()
        except OSError:
            fd = None
        if isinstance(fd, int) and fd >= 0:
            return fd, None
    if fileno is None and not hasattr(obj, "ioctl"):
        raise OSError("stream operation not supported")
    ioctl = obj.ioctl
    fd = _int(ioctl(_STREAM_GET_FILENO, 0))
    if fd >= 0:
        return fd, None
    return None, ioctl


def _oserror(code):
    import os

    return OSError(code, os.strerror(code))


class _Entry:
    __slots__ = ("obj", "events", "fd", "ioctl", "revents")

    def __init__(self, obj, events, fd, ioctl):
        self.obj = obj
        self.events = events
        self.fd = fd
        self.ioctl = ioctl
        self.revents = 0


class poll:
    def __init__(self):
        self._fds = _native()
        self._entries = {}  # id(obj) -> _Entry, in registration order
        self._byfd = {}  # descriptor -> its entries
        self._objects = []  # the entries polled through ioctl
        self._iter = None
        self._flags = 0

    def _sync(self, fd):
        entries = self._byfd.get(fd)
        if not entries:
            self._byfd.pop(fd, None)
            try:
                self._fds.unregister(fd)
            except KeyError:
                pass
            return
        events = 0
        for e in entries:
            events |= e.events
        self._fds.register(fd, events)

    def register(self, obj, eventmask=POLLIN | POLLOUT):
        events = _int(eventmask)
        entry = self._entries.get(id(obj))
        if entry is None:
            fd, ioctl = _source(obj)
            entry = _Entry(obj, events, fd, ioctl)
            self._entries[id(obj)] = entry
            if fd is None:
                self._objects.append(entry)
            else:
                self._byfd.setdefault(fd, []).append(entry)
        else:
            entry.events = events
        if entry.fd is not None:
            self._sync(entry.fd)

    def unregister(self, obj):
        entry = self._entries.pop(id(obj), None)
        if entry is None:
            return
        if entry.fd is None:
            self._objects.remove(entry)
        else:
            self._byfd[entry.fd].remove(entry)
            self._sync(entry.fd)

    def modify(self, obj, eventmask):
        entry = self._entries.get(id(obj))
        if entry is None:
            raise _oserror(2)
        entry.events = _int(eventmask)
        if entry.fd is not None:
            self._sync(entry.fd)

    def _take(self, ready):
        n = 0
        for fd, revents in ready:
            for entry in self._byfd.get(fd, ()):
                got = revents & (entry.events | _ALWAYS)
                if got:
                    entry.revents = got
                    n += 1
        return n

    def _ask(self):
        n = 0
        for entry in self._objects:
            got = _int(entry.ioctl(_STREAM_POLL, entry.events))
            if got < 0:
                raise _oserror(-got)
            entry.revents = got
            if got:
                n += 1
        return n

    def _wait(self, timeout):
        timeout = -1 if timeout is None else _int(timeout)
        for entry in self._entries.values():
            entry.revents = 0
        if not self._objects:
            return self._take(self._fds.poll(None if timeout < 0 else timeout))
        start = time.ticks_ms()
        wait = 0
        while True:
            n = self._take(self._fds.poll(wait)) if self._byfd else 0
            n += self._ask()
            if n:
                return n
            wait = POLL_PERIOD_MS
            if timeout >= 0:
                left = timeout - time.ticks_diff(time.ticks_ms(), start)
                if left <= 0:
                    return 0
                wait = min(wait, left)
            if not self._byfd:
                time.sleep_ms(wait)

    def poll(self, timeout=-1):
        self._wait(timeout)
        return [(e.obj, e.revents) for e in self._entries.values() if e.revents]

    def ipoll(self, timeout=-1, flags=0):
        self._flags = _int(flags)
        self._wait(timeout)
        self._iter = [e for e in self._entries.values() if e.revents]
        return self

    def __iter__(self):
        return self

    def __next__(self):
        if not self._iter:
            raise StopIteration
        entry = self._iter.pop(0)
        if self._flags & _ONESHOT:
            entry.events = 0
            if entry.fd is not None:
                self._sync(entry.fd)
        return (entry.obj, entry.revents)
