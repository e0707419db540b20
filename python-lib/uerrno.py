# MicroPython name for `errno`: importing it gives the very same module.
import sys
import errno

sys.modules[__name__] = errno
