# print writes what the objects before a failing str() gave, then raises.
class Unprintable:
    def __str__(self):
        raise ValueError("no str")


try:
    print("a", "b", Unprintable(), "c")
except ValueError as e:
    print("|", e)
print(1, 2, sep="-", end="!\n")
print()
print("x", end="")
print("y", sep="never used")
print(*range(5), sep=", ")
