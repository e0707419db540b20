# micropython.const() returns its argument: constants work in expressions,
# both via "from micropython import const" and micropython.const.
import micropython
from micropython import const

SIZE = const(5)
MASK = const(0xFF)
SHIFTED = const(1 << 4)
NEG = const(-3)
TOTAL = const(SIZE * 2 + 1)

print(const(5) == 5)
print(micropython.const(7))
print(SIZE, MASK, SHIFTED, NEG, TOTAL)
print(type(SIZE).__name__)
print([i * SIZE for i in range(3)])


def uses_const(x):
    return (x & MASK) + SIZE


print(uses_const(0x1234))


class Reg:
    ADDR = const(0x40)

    def addr(self):
        return self.ADDR + NEG


print(Reg().addr())
print("done")
