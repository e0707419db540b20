# time.mktime with MicroPython's 8-tuple and CPython's 9-tuple (and a list), normalising
# out-of-range fields, round trips through localtime, and the errors for bad input.
import time


def attempt(label, f):
    try:
        print(label, f())
    except Exception as e:
        print(label, type(e).__name__, e)


for t in (
    (2020, 1, 2, 3, 4, 5, 0, 0),
    (2020, 1, 2, 3, 4, 5, 0, 0, 0),
    [2020, 1, 2, 3, 4, 5, 0, 0],
    (2020, 13, 40, 25, 61, 61, 0, 0),
    (2000, 2, 29, 12, 0, 0, 5, 60),
    (2040, 1, 1, 0, 0, 0, 0, 0),
):
    print(t, time.mktime(t))

print(type(time.mktime((2020, 1, 2, 3, 4, 5, 0, 0))).__name__)
for secs in (0, 86399, 1700000000, 2000000000):
    lt = time.localtime(secs)
    print(secs, len(lt), time.mktime(lt) == secs, time.mktime(tuple(lt[:8])) == secs)
print(len(time.gmtime()), time.gmtime(0)[:8], time.localtime(0)[:6])

attempt("int", lambda: time.mktime(5))
attempt("str", lambda: time.mktime("abcdefgh"))
attempt("float field", lambda: time.mktime((2020.5, 1, 2, 3, 4, 5, 0, 0)))
attempt("short", lambda: time.mktime((2020, 1, 2, 3, 4, 5, 0)))
attempt("long", lambda: time.mktime((2020, 1, 2, 3, 4, 5, 0, 0, 0, 0)))
attempt("empty", lambda: time.mktime(()))
attempt("none", lambda: time.mktime())
print("done")
