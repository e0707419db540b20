# MicroPython name for `io`: importing it gives the very same module.
import sys
import io

sys.modules[__name__] = io
