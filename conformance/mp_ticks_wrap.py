# time.ticks_add/ticks_diff wrap-around arithmetic, written so it holds for
# any ticks period (2**30 on most microcontrollers, larger on 64-bit unix):
# the period is derived from ticks_add(0, -1).
import time

top = time.ticks_add(0, -1)
period = top + 1
print("period is a power of two:", period & (period - 1) == 0)
print("period >= 2**30:", period >= 2 ** 30)
print("ticks_add(top, 1) == 0:", time.ticks_add(top, 1) == 0)
print("ticks_add(top, 5) == 4:", time.ticks_add(top, 5) == 4)
print("ticks_add(3, -5) == top - 1:", time.ticks_add(3, -5) == top - 1)
print("ticks_diff(0, top):", time.ticks_diff(0, top))
print("ticks_diff(top, 0):", time.ticks_diff(top, 0))
print("ticks_diff(4, top - 1):", time.ticks_diff(4, top - 1))
print("ticks_diff(5, 3):", time.ticks_diff(5, 3))
print("ticks_diff(3, 5):", time.ticks_diff(3, 5))
half = period // 2
print("ticks_diff(half - 1, 0) == half - 1:", time.ticks_diff(half - 1, 0) == half - 1)
print("ticks_diff(half, 0) == -half:", time.ticks_diff(half, 0) == -half)
for t in (0, 1, 12345, top - 50, top):
    later = time.ticks_add(t, 100)
    earlier = time.ticks_add(t, -100)
    print(time.ticks_diff(later, t), time.ticks_diff(t, later), time.ticks_diff(earlier, t),
          0 <= later <= top, 0 <= earlier <= top)
now = time.ticks_ms()
print("ticks_ms in range:", 0 <= now <= top)
print("done")
