# MicroPython name for `select`: importing it gives the very same module.
import sys
import select

sys.modules[__name__] = select
