# sys.print_exception(exc, file) writes a traceback: first line
# "Traceback (most recent call last):", last line "Type: message". Only the
# first and last lines are printed, since the middle ones name file paths.
import io
import sys


def inner():
    raise ValueError("boom")


def outer():
    inner()


try:
    outer()
except ValueError as e:
    buf = io.StringIO()
    r = sys.print_exception(e, buf)
    lines = buf.getvalue().splitlines()
    print(lines[0])
    print(lines[-1])
    print("returned", r)
    print("more than two lines:", len(lines) > 2)

try:
    raise KeyError("k")
except KeyError as e:
    buf = io.StringIO()
    sys.print_exception(e, buf)
    print(buf.getvalue().splitlines()[-1])

try:
    raise OSError(2)
except OSError as e:
    buf = io.StringIO()
    sys.print_exception(e, buf)
    print(buf.getvalue().splitlines()[-1])
print("done")
