# micropython.alloc_emergency_exception_buf(size), called at the top of
# programs that raise from interrupt handlers, returns None and may be
# called again with another size. NOTE: the unix port of MicroPython does
# not have this function (AttributeError there); microcontroller ports do.
import micropython

print(micropython.alloc_emergency_exception_buf(100))
print(micropython.alloc_emergency_exception_buf(256))
print(micropython.alloc_emergency_exception_buf(0))
print("done")
