# MicroPython name for `asyncio`: importing it gives the very same module.
import sys
import asyncio

sys.modules[__name__] = asyncio
