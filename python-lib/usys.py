# MicroPython name for `sys`: importing it gives the very same module.
import sys
import sys

sys.modules[__name__] = sys
