# collections: deque (with maxlen as MicroPython needs), namedtuple,
# OrderedDict.
from collections import deque, namedtuple, OrderedDict

d = deque((), 3)
for i in range(5):
    d.append(i)
print(list(d), len(d))
print(d.popleft(), d.pop(), list(d))
d.appendleft(9)
print(list(d), bool(d))
d2 = deque([1, 2], 10)
d2.extend([3, 4])
print(list(d2))
Point = namedtuple("Point", ("x", "y"))
p = Point(1, y=2)
print(p, p.x, p.y, p[0], len(p), p == (1, 2))
x, y = p
print(x + y, p._replace(y=5) if hasattr(p, "_replace") else Point(1, 5))
P2 = namedtuple("P2", "a b")
print(P2(3, 4).b)
od = OrderedDict()
od["z"] = 1
od["a"] = 2
od["m"] = 3
print(list(od.keys()), list(od.values()))
del od["a"]
od["a"] = 4
print(list(od.items()))
print("done")
