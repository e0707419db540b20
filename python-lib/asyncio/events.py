# `asyncio.events`, as in CPython's asyncio package: re-exports from the native module.
from asyncio import Handle, TimerHandle, get_event_loop, get_running_loop, new_event_loop
