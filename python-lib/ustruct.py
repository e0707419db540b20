# MicroPython name for `struct`: importing it gives the very same module.
import sys
import struct

sys.modules[__name__] = struct
