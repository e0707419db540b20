# `asyncio.lock`, as in MicroPython's asyncio package: re-exports from the native module.
from asyncio import Lock
