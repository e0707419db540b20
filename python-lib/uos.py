# MicroPython name for `os`: importing it gives the very same module.
import sys
import os

sys.modules[__name__] = os
