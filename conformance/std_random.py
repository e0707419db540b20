# random: values differ between implementations, so only ranges, types and
# "same seed gives same sequence" are checked.
import random

random.seed(42)
first = [random.randint(0, 1000) for _ in range(5)]
random.seed(42)
again = [random.randint(0, 1000) for _ in range(5)]
print("seed repeats:", first == again)
ok = True
for _ in range(200):
    r = random.random()
    ok = ok and 0.0 <= r < 1.0
    i = random.randint(3, 7)
    ok = ok and 3 <= i <= 7
    g = random.getrandbits(8)
    ok = ok and 0 <= g < 256
    rr = random.randrange(10, 20, 2)
    ok = ok and rr in (10, 12, 14, 16, 18)
    u = random.uniform(1.0, 2.0)
    ok = ok and 1.0 <= u <= 2.0
    c = random.choice("abc")
    ok = ok and c in "abc"
print("all in range:", ok)
print(type(random.random()).__name__, type(random.randint(0, 1)).__name__)
print("done")
