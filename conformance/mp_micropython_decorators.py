# @micropython.native and @micropython.viper decorated functions (and a
# native method and a native generator) still run and give the same results.
import micropython


@micropython.native
def add_native(a, b):
    return a + b


@micropython.native
def count_native(n):
    total = 0
    for i in range(n):
        total += i
    return total


@micropython.viper
def add_viper(a: int, b: int) -> int:
    return a + b


@micropython.native
def gen_native(n):
    for i in range(n):
        yield i * i


class Acc:
    def __init__(self):
        self.v = 0

    @micropython.native
    def bump(self, d):
        self.v += d
        return self.v


print(add_native(2, 3))
print(add_native("a", "b"))
print(count_native(10))
print(add_viper(20, 22))
print(list(gen_native(4)))
acc = Acc()
acc.bump(3)
print(acc.bump(4))
print("done")
