# MicroPython name for `random`: importing it gives the very same module.
import sys
import random

sys.modules[__name__] = random
