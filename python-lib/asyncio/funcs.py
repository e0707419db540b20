# `asyncio.funcs`, as in MicroPython's asyncio package: re-exports from the native module.
from asyncio import gather, wait_for, wait_for_ms
