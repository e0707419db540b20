# MicroPython name for `array`: importing it gives the very same module.
import sys
import array

sys.modules[__name__] = array
