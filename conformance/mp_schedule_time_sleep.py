# micropython.schedule callbacks run while time.sleep_ms blocks, outside any loop.
import micropython, time
def cb(x): print("cb", x)
micropython.schedule(cb, 1)
time.sleep_ms(5)
print("after sleep")
print("done")
