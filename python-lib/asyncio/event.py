# `asyncio.event`, as in MicroPython's asyncio package: re-exports from the native module.
from asyncio import Event, ThreadSafeFlag
