# A function whose __defaults__ is longer than its parameters uses the last ones, as CPython
# does, whatever way it is called (directly, with *args, through functools.partial).
import functools
def g(a): return a
g.__defaults__ = (1, 2)
print(g(5), g(*[5]), functools.partial(g, 5)(), g())
def h(a, b=3): return a + b
h.__defaults__ = (10, 20, 30)
print(h(1), h(*[1]), h(), h(1, 2))
