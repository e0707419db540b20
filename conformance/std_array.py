# array.array: typecodes, indexing, append/extend, slicing, bytes view.
from array import array

a = array("i", [1, 2, 3])
a.append(4)
a.extend([5, 6])
print(a, len(a), a[0], a[-1], sum(a))
a[1] = 20
print(list(a), a[1:3], type(a[1:3]).__name__)
b = array("B", [0, 255, 16])
print(b, bytes(b))
f = array("f", [0.5, 1.5])
print(f[0] + f[1])
h = array("h")
print(h, len(h))
h.append(-5)
print(h, list(h))
bb = array("b", b"\x01\x02\xff")
print(list(bb))
print(array("B", [1, 2]) + array("B", [3]))
print("done")
