# MicroPython name for `time`: importing it gives the very same module.
import sys
import time

sys.modules[__name__] = time
