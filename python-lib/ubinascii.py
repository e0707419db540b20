# MicroPython name for `binascii`: importing it gives the very same module.
import sys
import binascii

sys.modules[__name__] = binascii
