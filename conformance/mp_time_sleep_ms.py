# Blocking time.sleep_ms/time.sleep_us: they return None and the ticks
# advance by at least the requested time.
import time

t0 = time.ticks_ms()
r = time.sleep_ms(15)
d = time.ticks_diff(time.ticks_ms(), t0)
print("sleep_ms returned", r)
print("elapsed >= 15 ms:", d >= 15, d < 1000)
u0 = time.ticks_us()
r = time.sleep_us(2000)
du = time.ticks_diff(time.ticks_us(), u0)
print("sleep_us returned", r)
print("elapsed >= 2000 us:", du >= 2000, du < 1000000)
time.sleep_ms(0)
time.sleep_us(0)
print("zero sleeps ok")
print("done")
