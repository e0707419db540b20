# The clock of the real-program workloads (not a workload itself): `now()` and `since(start)`
# in seconds, from time.perf_counter where the interpreter has it (CPython, microloop) and from
# time.ticks_us on MicroPython.
import time

if hasattr(time, "perf_counter"):
    now = time.perf_counter

    def since(start):
        return time.perf_counter() - start

else:
    now = time.ticks_us

    def since(start):
        return time.ticks_diff(time.ticks_us(), start) / 1e6
