# A call that does not fit the function's parameters raises TypeError in MicroPython's words,
# which programs print and MicroPython's own test runner reads (it tells MicroPython's
# error-reporting levels apart by the length of one of them). CPython words them otherwise:
# this script runs under MicroPython and microloop only.


def one(a):
    pass


def two_and_default(a, b, c=3):
    pass


def keyword_only(a, *, k):
    pass


def keyword_only_with_default(a, *, k, j=2):
    pass


def star_args(*a, k):
    pass


def star_kwargs(**k):
    pass


class Thing:
    def method(self, a):
        pass


calls = [
    ("one()", lambda: one()),
    ("one(1, 2)", lambda: one(1, 2)),
    ("one(b=2)", lambda: one(b=2)),
    ("one(1, a=2)", lambda: one(1, a=2)),
    ("two_and_default()", lambda: two_and_default()),
    ("two_and_default(1, 2, 3, 4)", lambda: two_and_default(1, 2, 3, 4)),
    ("two_and_default(1, 2, 3, 4, c=5)", lambda: two_and_default(1, 2, 3, 4, c=5)),
    ("two_and_default(b=1)", lambda: two_and_default(b=1)),
    ("two_and_default(c=1)", lambda: two_and_default(c=1)),
    ("two_and_default(1, c=2)", lambda: two_and_default(1, c=2)),
    ("keyword_only(1)", lambda: keyword_only(1)),
    ("keyword_only(1, j=2)", lambda: keyword_only(1, j=2)),
    ("keyword_only(1, 2, k=3)", lambda: keyword_only(1, 2, k=3)),
    ("keyword_only_with_default(1)", lambda: keyword_only_with_default(1)),
    ("keyword_only_with_default()", lambda: keyword_only_with_default()),
    ("star_args(1)", lambda: star_args(1)),
    ("star_args(1, m=2)", lambda: star_args(1, m=2)),
    ("star_kwargs(1)", lambda: star_kwargs(1)),
    ("Thing().method()", lambda: Thing().method()),
    ("Thing().method(1, 2)", lambda: Thing().method(1, 2)),
    ("lambda: 0 called with 1", lambda: (lambda: 0)(1)),
    ("lambda a=1 called with 2", lambda: (lambda a=1: a)(1, 2)),
    ("lambda *a called with x=1", lambda: (lambda *a: a)(x=1)),
]
for text, call in calls:
    try:
        call()
        print(text, "-> no error")
    except TypeError as e:
        print(text, "->", e)

# The length MicroPython's test runner measures.
try:
    (lambda: 0)(0)
except TypeError as e:
    print(len(str(e)))
