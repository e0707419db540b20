# OSError as MicroPython shows it: one type, errno from the first argument, str with the
# errno's name, repr with the arguments.
import errno
import sys

forms = [
    (),
    (errno.ETIMEDOUT,),
    (errno.ETIMEDOUT, "ETIMEDOUT"),
    (errno.ECONNRESET, "peer went away"),
    (errno.ENOENT,),
    (errno.EAGAIN,),
    (20,),
    (20, "not a directory"),
    (999,),
    (999, "x"),
    ("no such thing",),
    ("a", "b"),
    (-1,),
]
for args in forms:
    e = OSError(*args)
    print(repr(e), "|", str(e), "|", e.args, e.errno, e.value)

for args in [(errno.ETIMEDOUT, "timed out"), (errno.ECONNREFUSED,)]:
    try:
        raise OSError(*args)
    except OSError as e:
        print("caught", repr(e), e.errno == args[0])
        sys.print_exception(e, sys.stdout)


class MyError(OSError):
    pass


print(repr(MyError(errno.EIO)), str(MyError(errno.EIO)))
try:
    raise OSError(errno.ECONNRESET, "reset")
except OSError as e:
    sys.print_exception(e, sys.stdout)
try:
    raise OSError(errno.ETIMEDOUT)
except OSError as e:
    sys.print_exception(e, sys.stdout)
