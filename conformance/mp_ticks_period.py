# Exact ticks arithmetic with the ticks period of MicroPython's 64-bit unix port,
# 2**62 (the small-int range). Microcontroller ports use 2**30.
import time

P = 2 ** 62
print(time.ticks_add(P - 1, 1))
print(time.ticks_add(0, -1))
print(time.ticks_add(P - 10, 25))
print(time.ticks_add(5, -10))
print(time.ticks_diff(0, P - 1))
print(time.ticks_diff(P - 1, 0))
print(time.ticks_diff(10, P - 10))
print(time.ticks_diff(P // 2 - 1, 0))
print(time.ticks_diff(P // 2, 0))
t = P - 30
print(time.ticks_add(t, 100), time.ticks_diff(time.ticks_add(t, 100), t))
print("done")
