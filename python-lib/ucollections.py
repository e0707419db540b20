# MicroPython name for `collections`: importing it gives the very same module.
import sys
import collections

sys.modules[__name__] = collections
